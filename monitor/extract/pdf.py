"""The text of a PDF (a penalty notice, a determination), read with pypdf: pure Python, no
system libraries, and enough for the text layer regulators' decisions have. A scanned PDF with
no text layer says so instead of reading as empty."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from enum import StrEnum

from monitor.text import bounded

MAX_PAGES = 200  # pages read of one PDF (a decision runs to dozens, not thousands)
MAX_TEXT = 1_000_000


class PdfState(StrEnum):
    """What reading a PDF gave."""

    OK = "ok"
    NO_TEXT = "no text layer (a scan?)"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class PdfText:
    """A PDF's text and how reading it went."""

    text: str
    state: PdfState
    pages: int = 0


def is_pdf(body: bytes, content_type: str = "") -> bool:
    """Whether a response is a PDF: by its type, or by its first bytes."""
    return "application/pdf" in content_type.lower() or body.lstrip()[:5] == b"%PDF-"


def pdf_text(body: bytes) -> PdfText:
    """The text of every page (up to MAX_PAGES), bounded; never raises."""
    from pypdf import PdfReader  # loaded only when a PDF is actually read

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns about every odd object
    try:
        reader = PdfReader(io.BytesIO(body))
        pages = reader.pages[:MAX_PAGES]
        text = "\n".join((page.extract_text() or "") for page in pages)
    except Exception:  # pypdf raises many kinds on broken files; the boundary is here
        return PdfText("", PdfState.UNREADABLE)
    text = bounded(text.strip(), MAX_TEXT)
    return PdfText(text, PdfState.OK if text else PdfState.NO_TEXT, len(pages))
