"""Text made into safe HTML, for the pages (monitor.web) and the feeds (monitor.publish):
matched names highlighted, and the words that changed between two versions marked.
Everything scraped is escaped first."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable

from markupsafe import Markup


def highlight(text: str, names: Iterable[str], tag: str = "mark") -> Markup:
    """`text`, escaped, with every occurrence of the names (any case) in <mark> (or `tag`:
    feed readers' sanitisers keep <strong> but often drop <mark>)."""
    wanted = sorted({n for n in names if n}, key=len, reverse=True)
    if not wanted:
        return Markup(html.escape(text, quote=False))
    pattern = re.compile("|".join(re.escape(n) for n in wanted), re.IGNORECASE)
    out, last = [], 0
    for found in pattern.finditer(text):
        out.append(html.escape(text[last:found.start()], quote=False))
        out.append(f"<{tag}>{html.escape(found.group(0), quote=False)}</{tag}>")
        last = found.end()
    out.append(html.escape(text[last:], quote=False))
    return Markup("".join(out))


def word_diff(before: str, after: str) -> Markup:
    """`after` with the words removed since `before` in <del> and those added in <ins>."""
    old, new = before.split(), after.split()
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(new[b1:b2]), quote=False))
            continue
        if a2 > a1:
            out.append(f"<del>{html.escape(' '.join(old[a1:a2]), quote=False)}</del>")
        if b2 > b1:
            out.append(f"<ins>{html.escape(' '.join(new[b1:b2]), quote=False)}</ins>")
    return Markup(" ".join(out))


def paragraphs(text: str) -> Markup:
    """Plain text as escaped paragraphs, one per line of it."""
    return Markup("".join(f"<p>{html.escape(line, quote=False)}</p>"
                          for line in text.splitlines() if line.strip()))
