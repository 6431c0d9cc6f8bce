"""A company's history across regulators as an SVG drawn on the server: one lane per
regulator, one mark per statement at its stated day, each mark a link to the statement's page
with its title as the tooltip and accessible name. Pure: statements in, markup out."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from monitor.store import Mark

LANE = 34  # pixels per regulator lane
LABEL = 150  # the width of the lane labels
WIDTH = 900
PAD = 16


def timeline_svg(items: Sequence[Mark], link: str = "/statements/{id}") -> str:
    """The timeline of `items` (by stated day, else the day regmon first saw them), or ""
    when there is nothing to draw."""
    if not items:
        return ""
    days = [i.day for i in items]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    lanes = sorted({i.regulator for i in items})
    height = PAD * 2 + LANE * len(lanes) + 20
    plot = WIDTH - LABEL - PAD * 2

    def x(day: date) -> float:
        return LABEL + PAD + plot * (day - first).days / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'class="timeline" role="img" aria-labelledby="timeline-title">'
             f'<title id="timeline-title">Statements by regulator, {first:%B %Y} to '
             f'{last:%B %Y}</title>']
    for number, regulator in enumerate(lanes):
        y = PAD + LANE * number + LANE / 2
        parts.append(f'<text x="{LABEL - 8}" y="{y + 4:.0f}" text-anchor="end" '
                     f'class="lane">{html.escape(regulator)}</text>'
                     f'<line x1="{LABEL}" x2="{WIDTH - PAD}" y1="{y:.0f}" y2="{y:.0f}" '
                     'class="axis"/>')
    lane_y = {regulator: PAD + LANE * n + LANE // 2 for n, regulator in enumerate(lanes)}
    link = html.escape(link, quote=True)
    for item in items:
        title = html.escape(f"{item.day:%d %b %Y}: {item.title}")
        parts.append(f'<a href="{link.format(id=item.id)}" aria-label="{title}" '
                     f'data-id="{item.id}"><circle cx="{x(item.day):.1f}" '
                     f'cy="{lane_y[item.regulator]}" r="6" class="mark"><title>{title}</title>'
                     '</circle></a>')
    base = PAD + LANE * len(lanes) + 12
    for year in range(first.year, last.year + 1):
        tick = max(first, date(year, 1, 1))
        parts.append(f'<text x="{x(tick):.0f}" y="{base}" class="year">{year}</text>')
    parts.append("</svg>")
    return "".join(parts)

