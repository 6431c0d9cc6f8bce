"""Text from outside made safe to keep and to show: no control characters (a terminal escape,
a NUL), no lone surrogates (which no file, database or feed can hold), and a bounded length."""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_CONTROLS = tuple(chr(c) for c in (*range(0x09), *range(0x0B, 0x20), 0x7F))
_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` without control characters and lone surrogates; newlines and tabs stay."""
    if text.isascii():  # most pages: an `in` test per control runs in C, the pattern per character
        if text.isprintable():  # a headline: nothing to remove, not even a tab or newline
            return text
        for control in _ASCII_CONTROLS:
            if control in text:
                text = text.replace(control, "")
        return text
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """`text` without any control character, newlines included (a table cell, a log field)."""
    return _LINE_CONTROLS.sub(" ", text)


def bounded(text: str, limit: int) -> str:
    """Printable text of at most `limit` characters (a site can send anything)."""
    text = printable(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"
