"""The validated configuration kept in the state directory: a run whose files are unchanged reads
it back without importing the validator; any change to sources.toml, an included file or the
watchlist is seen at once; a broken file is never hidden by an old cache; a planted or torn
cache file runs no code and costs only the time it would have saved."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config_cache import CACHE_NAME, load_config_cached
from monitor.errors import ConfigError
from tests.conftest import Regmon
from tests.helpers import first_world
from tests.sites import World

REPO = Path(__file__).resolve().parent.parent

INCLUDED = REPO / "regulators" / "cnil.toml"


def _configured(tmp_path: Path) -> tuple[Path, Path]:
    """A sources.toml that includes one catalogue file, its watchlist, and a state dir."""
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir(parents=True)
    state.mkdir()
    (etc / "cnil.toml").write_text(INCLUDED.read_text())
    (etc / "watchlist.toml").write_text((REPO / "watchlist.toml").read_text())
    config = etc / "sources.toml"
    config.write_text('watchlist = "watchlist.toml"\ninclude = ["cnil.toml"]\n')
    return config, state


def test_the_cache_holds_what_validation_gives_and_serves_it_back(tmp_path: Path) -> None:
    config, state = _configured(tmp_path)
    fresh = load_config(config)
    assert load_config_cached(config, state) == fresh
    assert (state / CACHE_NAME).exists()
    assert load_config_cached(config, state) == fresh
    assert fresh.read_from == tuple((config.parent / name).resolve()
                                    for name in ("sources.toml", "cnil.toml", "watchlist.toml"))


def test_the_same_relative_path_from_another_directory_is_another_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, state = _configured(tmp_path / "first")
    second, _ = _configured(tmp_path / "second")
    watchlist = second.parent / "watchlist.toml"
    watchlist.write_text(watchlist.read_text().replace('name = "PimEyes"', 'name = "PimEyes Oy"'))
    monkeypatch.chdir(first.parent)
    load_config_cached(Path("sources.toml"), state)
    monkeypatch.chdir(second.parent)
    names = {c.name for c in load_config_cached(Path("sources.toml"), state).watchlist.company}
    assert "PimEyes Oy" in names


@pytest.mark.parametrize("edited", ["sources.toml", "cnil.toml", "watchlist.toml"])
def test_a_change_to_any_file_it_was_read_from_is_seen(tmp_path: Path, edited: str) -> None:
    config, state = _configured(tmp_path)
    before = load_config_cached(config, state)
    path = config.parent / edited
    if edited == "sources.toml":
        path.write_text(path.read_text() + "\n[settings]\nfeed_size = 7\n")
    elif edited == "cnil.toml":
        path.write_text(path.read_text() + "interval_minutes = 90\n")
    else:
        path.write_text(path.read_text().replace('name = "PimEyes"', 'name = "PimEyes Oy"', 1))
    after = load_config_cached(config, state)
    assert after != before
    assert after == load_config(config)
    if edited == "sources.toml":
        assert after.settings.feed_size == 7
    elif edited == "cnil.toml":
        assert after.sources[0].interval_minutes == 90
    else:
        assert "PimEyes Oy" in {company.name for company in after.watchlist.company}


def test_a_broken_file_is_reported_though_a_good_one_was_cached(tmp_path: Path) -> None:
    config, state = _configured(tmp_path)
    load_config_cached(config, state)
    watchlist = config.parent / "watchlist.toml"
    watchlist.write_text(watchlist.read_text() + "\n[[company]]\nname = \"Nobody\"\n")
    with pytest.raises(ConfigError, match="needs at least one entry in aliases"):
        load_config_cached(config, state)


class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch planted",))


@pytest.mark.parametrize("content", [b"", b"\x80\x05garbage", pickle.dumps(_Planted())])
def test_a_torn_or_planted_cache_runs_nothing_and_is_replaced(
    tmp_path: Path, content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config, state = _configured(tmp_path)
    (state / CACHE_NAME).write_bytes(content)
    assert load_config_cached(config, state) == load_config(config)
    assert not (tmp_path / "planted").exists()
    assert (state / CACHE_NAME).read_bytes() != content


def test_a_command_that_only_reads_creates_no_state_directory(tmp_path: Path) -> None:
    config, _ = _configured(tmp_path)
    missing = tmp_path / "nowhere"
    load_config_cached(config, missing)
    assert not missing.exists()


def test_a_steady_run_and_status_never_import_the_validator(world: World,
                                                             regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0  # made the state directory, and cached what it validated
    for command in ("once", "status"):
        run = regmon(command, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert run.code == 0, run.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "monitor.config" in imported
        assert not {name for name in imported if name.startswith("pydantic")}, command
