"""Matching speed: the compiled watchlist against a naive loop of per-alias regexes.

    python bench/match.py            # 10 MB of statements, 1,000-name watchlist
    python bench/match.py --mb 2     # smaller

Both matchers run in this process, on the same statements, one after the other; the naive
loop is timed on a slice of the text (it is far slower) and compared by throughput. The
statements are the labelled corpus's texts (mostly about facial recognition, so the rules do
real work) padded with ordinary regulator prose, one line per paragraph as the extractor
gives it. The compiled matcher is timed over several runs and the best is reported, since
these machines are shared.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import Company, Watchlist, load_watchlist
from monitor.match import CompiledWatchlist, clean_text, fold_text

REPO = Path(__file__).resolve().parent.parent
FILLER = [
    "The Commissioner found that the organisation had not taken reasonable steps to protect "
    "the personal information it held from misuse, interference and loss.",
    "Under the Privacy Act, entities must notify affected individuals and the regulator of an "
    "eligible data breach as soon as practicable.",
    "The investigation examined the company’s collection, use and disclosure of personal "
    "information, including its retention practices and its privacy policy.",
    "We expect organisations to be transparent with people about how their data is used, and "
    "to give them meaningful choices.",
    "The determination requires the respondent to engage an independent reviewer and to report "
    "on the implementation of the reviewer’s recommendations within 12 months.",
    "Media enquiries should be directed to the communications team; we do not comment on "
    "ongoing investigations.",
    "Data protection law gives people rights over their information, including the right to "
    "access it and to have it corrected.",
    "Our guidance sets out what good practice looks like and how we will approach enforcement.",
]


def watchlist_of(size: int, seed: int = 7) -> tuple[Watchlist, int]:
    """The real watchlist plus generated companies, `size` names (aliases) in all."""
    real = load_watchlist(REPO / "watchlist.toml")
    names = sum(len(c.aliases) + len(c.needs_context) for c in real.company)
    rng = random.Random(seed)
    syllables = ["vel", "trix", "zan", "dor", "quo", "lum", "pex", "ora", "fyn", "gal", "mir",
                 "tek", "nov", "syn", "kai", "bro", "lux", "vey"]
    extra = []
    while names < size:
        base = "".join(rng.choice(syllables) for _ in range(3)).capitalize()
        aliases = (f"{base} Vision", f"{base}Face")
        extra.append(Company(name=f"{base} Vision {len(extra)}", aliases=aliases))
        names += len(aliases)
    return Watchlist(context=real.context, company=(*real.company, *extra)), names


def statements(megabytes: float, seed: int = 11) -> list[tuple[str, str]]:
    """(title, body) pairs of realistic statements, about `megabytes` MB of text in all."""
    corpus = []
    for name in ("dev_set.toml", "hard_cases.toml"):
        corpus += tomllib.loads((REPO / "tests/corpus" / name).read_text())["statement"]
    rng = random.Random(seed)
    out, size = [], 0
    while size < megabytes * 1_000_000:
        row = rng.choice(corpus)
        paragraphs = [row["body"], *rng.choices(FILLER, k=rng.randint(15, 40))]
        rng.shuffle(paragraphs)
        body = "\n".join(paragraphs)  # as the extractor gives it: one line per block
        out.append((row["title"], body))
        size += len(row["title"]) + len(body)
    return out


def naive(watchlist: Watchlist) -> list[tuple[str, re.Pattern[str]]]:
    """One case-insensitive, word-bounded regex per alias: what keyword alerts usually do."""
    return [(c.name, re.compile(rf"(?<!\w){re.escape(fold_text(clean_text(a)))}(?!\w)"))
            for c in watchlist.company for a in (*c.aliases, *c.needs_context)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=10.0, help="megabytes of statement text")
    parser.add_argument("--names", type=int, default=1000, help="names in the watchlist")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (the best counts)")
    args = parser.parse_args()

    watchlist, names = watchlist_of(args.names)
    docs = statements(args.mb)
    total = sum(len(t) + len(b) for t, b in docs) / 1e6

    started = time.perf_counter()
    compiled = CompiledWatchlist(watchlist)
    compile_seconds = time.perf_counter() - started

    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        found = sum(bool(compiled.match(title, "", body).matches) for title, body in docs)
        runs.append(time.perf_counter() - started)
    compiled_seconds = min(runs)  # the best run: the least disturbed by a shared machine
    compiled_rate = total / compiled_seconds

    patterns = naive(watchlist)
    sample = docs[: max(1, len(docs) // 20)]
    sample_mb = sum(len(t) + len(b) for t, b in sample) / 1e6
    started = time.perf_counter()
    for title, body in sample:
        text = fold_text(clean_text(title + " " + body))
        {name for name, pattern in patterns if pattern.search(text)}
    naive_seconds = time.perf_counter() - started
    naive_rate = sample_mb / naive_seconds

    print(f"watchlist: {len(watchlist.company)} companies, {names} names "
          f"(compiled in {compile_seconds * 1000:.0f} ms)")
    print(f"text: {len(docs)} statements, {total:.1f} MB; {found} statements matched")
    print()
    print(f"{'matcher':<32}{'MB':>8}{'seconds':>10}{'MB/s':>10}")
    print(f"{'compiled (one automaton + rules)':<32}{total:>8.1f}{compiled_seconds:>10.2f}"
          f"{compiled_rate:>10.1f}   (best of {len(runs)}; median "
          f"{total / sorted(runs)[len(runs) // 2]:.1f} MB/s)")
    print(f"{'naive (a regex per alias)':<32}{sample_mb:>8.1f}{naive_seconds:>10.2f}"
          f"{naive_rate:>10.2f}")
    print()
    print(f"compiled matcher: {compiled_rate:.0f} MB/s, {compiled_rate / naive_rate:.0f}x the naive "
          f"per-alias loop ({names} names)")


if __name__ == "__main__":
    main()
