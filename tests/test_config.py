"""A broken sources.toml gets one clear message per problem: file, line, key path, what is
wrong. Everything at once, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from tests.conftest import Regmon

REPO = Path(__file__).resolve().parent.parent

BROKEN = """\
watchlist = "watchlist.toml"

[settings]
min_delay_seconds = -1

[[sources]]
id = "oaic-media"
regulator = "OAIC"
kind = "html"
url = "https://www.oaic.gov.au/news/media-centre"
item = "div.card-content"
title = "a.card-title"
interval_minutes = 1

[[sources]]
id = "Bad Id"
regulator = "ICO"
kind = "json"
url = "https://ico.org.uk/api/search"
itemz_path = "results"
timezone = "Europe/Londn"
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    (tmp_path / "watchlist.toml").write_text((REPO / "watchlist.toml").read_text())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p).replace(str(path), "sources.toml") for p in caught.value.problems]


def test_every_problem_is_named_with_line_and_key_path(tmp_path: Path) -> None:
    assert _problems(tmp_path, BROKEN) == [
        "sources.toml:4: settings.min_delay_seconds: Input should be greater than or equal to 0",
        "sources.toml:13: sources[0].interval_minutes: 1 minutes is too often for a government "
        "site; the floor is 5",
        "sources.toml:16: sources[1].id: must be lower-case letters, digits and hyphens, like "
        "'ico-news'",
        "sources.toml:21: sources[1].timezone: unknown time zone 'Europe/Londn' (use an IANA "
        "name like 'Europe/London')",
        "sources.toml:15: sources[1].items_path: required key is missing",
        "sources.toml:20: sources[1].itemz_path: unknown key (is it misspelt?)",
    ]


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    assert _problems(tmp_path, 'watchlist = "watchlist.toml"\n[settings\n') == [
        "sources.toml:2: not valid TOML: Expected ']' at the end of a table declaration"]


def test_plain_http_secrets_and_bad_selectors_are_refused(tmp_path: Path) -> None:
    text = BROKEN.split("[[sources]]\nid = \"Bad Id\"")[0].replace("-1", "1")
    text = text.replace("https://www.oaic", "http://www.oaic").replace(
        'item = "div.card-content"', 'item = "div..card"\nslack_webhook_url = "https://hooks"')
    assert _problems(tmp_path, text) == [
        "sources.toml:10: sources[0].url: 'http://www.oaic.gov.au/news/media-centre' uses plain "
        "http; set allow_http = true to permit it",
        "sources.toml:14: sources[0].interval_minutes: 1 minutes is too often for a government "
        "site; the floor is 5",
        "sources.toml:11: sources[0].item: not a valid CSS selector: 'div..card'",
        "sources.toml:12: sources[0].slack_webhook_url: unknown key (is it misspelt?)",
    ]


def test_the_watchlist_file_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text((REPO / "sources.toml").read_text())
    (tmp_path / "watchlist.toml").write_text(
        '[[company]]\nname = "Acme"\n\n[[company]]\nname = "Face Co"\naliases = ["FaceCo"]\n'
        'case_sensitive = ["FACECO"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "sources.toml")
    assert [str(p).split("watchlist.toml")[1] for p in caught.value.problems] == [
        ":1: company[0]: needs at least one entry in aliases or needs_context",
        ":4: company[1]: case_sensitive names ['FACECO'] that are not aliases",
    ]


def test_the_shipped_configuration_is_valid() -> None:
    config = load_config(REPO / "sources.toml")
    assert [s.id for s in config.sources] == ["oaic-media", "ico-news", "ico-enforcement",
                                              "opc-news"]


def test_the_cli_reports_them_all_and_exits_2(regmon: Regmon) -> None:
    regmon.config_dir.mkdir(parents=True)
    regmon.config.write_text(BROKEN)
    (regmon.config_dir / "watchlist.toml").write_text((REPO / "watchlist.toml").read_text())
    run = regmon("once")
    assert run.code == 2
    assert run.stderr.startswith("regmon: the configuration has 6 problem(s):\n")
    assert f"{regmon.config}:21: sources[1].timezone: unknown time zone" in run.stderr
    assert run.stdout == ""


def test_a_missing_configuration_file_says_how_to_point_at_one(regmon: Regmon) -> None:
    run = regmon("once")
    assert run.code == 2
    assert "file not found (use --config or REGMON_CONFIG)" in run.stderr


def test_a_hook_key_is_refused_not_silently_ignored(tmp_path: Path) -> None:
    # regmon once accepted `hook = "..."` and never called it: a typo-shaped promise.
    text = """\
[[sources]]
id = "oaic-media"
regulator = "OAIC"
kind = "html"
url = "https://www.oaic.gov.au/news/media-centre"
item = "div.card-content"
title = "a.card-title"
hook = "my_module:fix_dates"
"""
    assert _problems(tmp_path, text) == [
        "sources.toml:8: sources[0].hook: unknown key (is it misspelt?)"]
