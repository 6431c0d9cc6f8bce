"""The validated configuration, kept in the state directory between runs.

Validating `sources.toml` means importing pydantic and building its validators: about a third of
a steady `regmon once`. When neither the file, the files it includes, the watchlist nor the code
that validates them has changed since the last run, the configuration that run validated is
read back instead. Every file is compared by the SHA-256 of its bytes, not its time stamp.

The cache is a pickle, read by an unpickler that can build nothing but the configuration's own
classes: a file planted in the state directory cannot make regmon run code. A cache that cannot
be read or written is ignored; it only ever saves time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitor import __version__, config, model
from monitor.config import Config, load_config

CACHE_NAME = "config-cache.pickle"

_BUILDABLE = {(config.__name__, name) for name, cls in vars(config).items()
              if isinstance(cls, type) and dataclasses.is_dataclass(cls)
              and cls.__module__ == config.__name__} \
    | {("monitor.model", "StatementType"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath")}


@dataclass(frozen=True)
class _Entry:
    """What the cache file holds: the configuration and what it was validated from."""

    code: str  # regmon's version, Python's and the validating code's own hash
    files: tuple[tuple[str, str], ...]  # (path, SHA-256) of every file read, `path` first
    config: Config


def load_config_cached(path: Path, state_dir: Path, *, makes_state: bool = False) -> Config:
    """`load_config(path)`, from `<state dir>/config-cache.pickle` when every file it was read
    from is unchanged; otherwise validated afresh (raising ConfigError as load_config does)
    and cached for the next run. A missing state directory is made only by a command that
    `makes_state` (one that polls): a command that only reads must not create it."""
    cache = state_dir / CACHE_NAME
    code = _code_stamp()
    entry = _read(cache)
    if (entry is not None and entry.code == code and entry.files[0][0] == str(path.resolve())
            and all(_digest(Path(name)) == digest for name, digest in entry.files)):
        return entry.config
    loaded = load_config(path)
    files = tuple((str(name), _digest(name)) for name in loaded.read_from)
    if all(digest for _, digest in files) and (makes_state or state_dir.is_dir()):
        _write(cache, _Entry(code, files, loaded))
    return loaded


def _code_stamp() -> str:
    """What the cached objects depend on besides the files: a change to the classes or their
    checks makes every cache stale."""
    digest = hashlib.sha256(f"{__version__}|{sys.version}".encode())
    for source in (config.__file__, model.__file__, __file__):
        digest.update(_digest(Path(str(source))).encode())
    return digest.hexdigest()


def _digest(path: Path) -> str:
    """The SHA-256 of `path`'s bytes; empty when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


class _ConfigUnpickler(pickle.Unpickler):
    """Builds only the configuration's classes; anything else ends the read."""

    def find_class(self, module: str, name: str) -> object:
        if module == __name__ and name == "_Entry":
            return _Entry
        if (module, name) not in _BUILDABLE:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a configuration")
        return super().find_class(module, name)


def _read(cache: Path) -> _Entry | None:
    try:
        data = cache.read_bytes()
    except OSError:
        return None
    try:
        entry = _ConfigUnpickler(io.BytesIO(data)).load()
    except Exception:  # a torn, foreign or older file is simply not a cache hit
        return None
    return entry if isinstance(entry, _Entry) and entry.files else None


def _write(cache: Path, entry: _Entry) -> None:
    """Replace the cache file in one step, so a reader never sees half of it."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache.parent, prefix=f".{CACHE_NAME}.")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, cache)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
