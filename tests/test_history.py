"""What regmon keeps as evidence, and how a journalist gets it out: `regmon show` and
`regmon export` on a store filled by real polls."""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import Regmon
from tests.helpers import BUNNINGS, first_world, second_world, stored
from tests.sites import World


def _polled(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    second_world(world)
    assert regmon("once").code == 0


def _id_of(regmon: Regmon, title: str) -> int:
    with stored(regmon.state_dir) as store:
        [found] = [s.id for s in store.statements() if s.title == title]
    return found


def test_show_prints_the_evidence_with_its_dates_kept_apart(world: World, regmon: Regmon) -> None:
    _polled(world, regmon)
    run = regmon("show", str(_id_of(regmon, BUNNINGS.title)))
    assert run.code == 0
    text = run.stdout
    assert f"{BUNNINGS.title}\n  regulator:      OAIC (source oaic-media)" in text
    assert "  published:      2026-11-19 (Australia/Sydney)   (as the regulator states it)" in text
    assert "  first seen:     " in text and "history" not in text
    assert "  validators:     ETag \"" in text
    assert "  content hash:   sha256:" in text
    assert "    + Bunnings ('Bunnings' in the title): Bunnings is watched for its use of facial " \
        "recognition" in text
    assert "    Bunnings collected the faceprints of customers entering 63 stores." in text
    assert regmon("show", "999999").code == 1


def test_export_round_trips_as_json_and_csv(world: World, regmon: Regmon) -> None:
    _polled(world, regmon)
    as_json = json.loads(regmon("export", "--format", "json").stdout)
    assert [row["title"] for row in as_json][-1] == "Privacy Commissioner opens investigation " \
        "into PimEyes"
    assert len(as_json) == 6
    bunnings = next(row for row in as_json if row["title"] == BUNNINGS.title)
    assert (bunnings["published"], bunnings["timezone"], bunnings["companies"]) == (
        "2026-11-19", "Australia/Sydney", ["Bunnings"])
    assert bunnings["first_seen"].endswith("+00:00")

    rows = list(csv.DictReader(io.StringIO(regmon("export").stdout)))
    assert [r["title"] for r in rows] == [r["title"] for r in as_json]
    assert [r["companies"] for r in rows] == ["; ".join(r["companies"]) for r in as_json]
    assert [int(r["id"]) for r in rows] == [r["id"] for r in as_json]

    clearview = json.loads(regmon("export", "--format", "json", "--company", "Clearview AI",
                                  "--since", "2022-01-01").stdout)
    assert [row["published"] for row in clearview] == ["2022-05-23", "2024-08-21"]
    bad = regmon("export", "--since", "last tuesday")
    assert bad.code == 2 and "is not a date like 2020-01-31" in bad.stderr
