"""The rules, as tables of cases: pure functions, no I/O, milliseconds to run. Each rule moved
out of the pipeline and the store has its rows here; end-to-end tests keep one case each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from monitor import decide
from monitor.config import Route, Settings
from monitor.decide import (
    EventCandidate,
    Failure,
    FailurePlan,
    KnownItem,
    ListingRead,
    PendingBody,
    PollPlan,
    RecheckCandidate,
    SourceSnapshot,
)
from monitor.model import (
    AlertKind,
    Announcement,
    BackfillStop,
    BodyState,
    FetchErrorKind,
    Health,
    ListedItem,
    Match,
    MatchResult,
    OutboxState,
    StatementType,
    Validators,
)
from monitor.pipeline import BackfillReport

SETTINGS = Settings()
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CLEARVIEW = MatchResult((Match("Clearview AI", "Clearview AI", "full name", "…", "title"),))
NOTHING = MatchResult()


def _item(n: int, title: str | None = None, summary: str = "", day: date | None = None) -> ListedItem:
    return ListedItem("oaic-media", f"https://oaic.example/s/{n}", f"https://oaic.example/s/{n}",
                      title or f"Statement {n}", summary, day)


def _listing(items: list[ListedItem], complete: bool = True) -> ListingRead:
    return ListingRead(tuple(items), {}, complete)


def _match(title: str, summary: str) -> MatchResult:
    return CLEARVIEW if "Clearview" in title else NOTHING


def _known(items: list[ListedItem]) -> dict[str, KnownItem]:
    return {i.key: KnownItem(n, i.key, i.title, i.summary) for n, i in enumerate(items)}


NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ORIGIN = decide.Origin("OAIC", "Australia/Sydney", "en", "au")
ABOUT = decide.About("OAIC", "au", StatementType.OTHER, "en")


def _everywhere(*channels: str) -> decide.Routing:
    return decide.Routing.everywhere(channels, NOW)


def _poll(snapshot: SourceSnapshot, items: list[ListedItem], known: list[ListedItem],
          channels: tuple[str, ...] = ("slack",), complete: bool = True) -> PollPlan | FailurePlan:
    return decide.plan_poll(snapshot, _listing(items, complete), _known(known), _match,
                            _everywhere(*channels), ORIGIN, SETTINGS)


BASELINED = SourceSnapshot("oaic-media", baseline_at=T0, usual_count=2.0)


# -- a successful poll --------------------------------------------------------------------------

@pytest.mark.parametrize(("snapshot", "listed", "known", "baseline", "new", "announced", "state"), [
    # the first poll is the baseline: recorded as history, nothing announced
    (SourceSnapshot("oaic-media"), [_item(1, "Clearview AI fined")], [], True, 1, 0, None),
    # after it, a new statement that matches is announced on every channel
    (BASELINED, [_item(1, "Clearview AI fined"), _item(2)], [_item(2)], False, 1, 1,
     OutboxState.PENDING),
    # a new statement that does not match is recorded, not announced
    (BASELINED, [_item(1), _item(2)], [_item(2)], False, 1, 0, None),
    # nothing new: nothing recorded
    (BASELINED, [_item(1)], [_item(1)], False, 0, 0, None),
    # most of a listing new at once (a URL scheme change): recorded, notifications held
    (SourceSnapshot("oaic-media", baseline_at=T0),
     [_item(n, "Clearview AI item") for n in range(6)], [], False, 6, 6, OutboxState.HELD),
    # five new of twenty is not a storm
    (BASELINED, [_item(n, "Clearview AI item") for n in range(20)],
     [_item(n) for n in range(5, 20)], False, 5, 5, OutboxState.PENDING),
])
def test_what_a_poll_records_and_announces(
    snapshot: SourceSnapshot, listed: list[ListedItem], known: list[ListedItem], baseline: bool,
    new: int, announced: int, state: OutboxState | None
) -> None:
    plan = _poll(snapshot, listed, known)
    assert isinstance(plan, PollPlan)
    assert (plan.baseline, len(plan.new)) == (baseline, new)
    rows = [row for item in plan.new for row in item.outbox]
    assert len(rows) == announced
    assert {r.state for r in rows} == ({state} if state else set())
    assert all(i.is_new != baseline for i in plan.new)
    assert (AlertKind.STORM in {a.kind for a in plan.alerts}) == (state == OutboxState.HELD)


def test_one_outbox_row_per_channel() -> None:
    plan = _poll(BASELINED, [_item(1, "Clearview AI fined")], [], channels=("slack", "webhook"))
    assert isinstance(plan, PollPlan)
    assert [r.channel for r in plan.new[0].outbox] == ["slack", "webhook"]


@pytest.mark.parametrize(("count", "usual", "complete", "shrunk"), [
    (2, 10.0, True, True),  # far smaller than usual: degraded, nothing from it is trusted
    (4, 10.0, True, False),  # smaller, but above the share
    (2, 10.0, False, False),  # a partial read (a 304 page) says nothing about size
    (1, 4.0, True, False),  # too small a listing to judge
    (1, None, True, False),  # no history yet
])
def test_a_listing_far_smaller_than_usual_is_a_failure(count: int, usual: float | None,
                                                       complete: bool, shrunk: bool) -> None:
    snapshot = SourceSnapshot("oaic-media", baseline_at=T0, usual_count=usual)
    plan = _poll(snapshot, [_item(n) for n in range(count)], [], complete=complete)
    assert isinstance(plan, FailurePlan) == shrunk
    if isinstance(plan, FailurePlan):
        assert plan.health == Health.DEGRADED
        assert f"yielded {count} items where it usually yields about 10" in plan.error


@pytest.mark.parametrize(("usual", "count", "complete", "expected"), [
    (None, 10, True, 10.0),
    (10.0, 20, True, 12.0),
    (10.0, 20, False, 10.0),
    (10.0, 0, True, 10.0),
])
def test_the_usual_size_is_a_running_average_of_complete_reads(
    usual: float | None, count: int, complete: bool, expected: float
) -> None:
    assert decide.next_usual_count(usual, _listing([_item(n) for n in range(count)],
                                                   complete)) == expected


def test_a_poll_after_trouble_recovers_and_says_so_once() -> None:
    snapshot = SourceSnapshot("oaic-media", baseline_at=T0, health=Health.FAILING, failures=4)
    plan = _poll(snapshot, [_item(1)], [_item(1)])
    assert isinstance(plan, PollPlan)
    assert plan.health == Health.OK
    assert [(a.kind, a.message) for a in plan.alerts] == [
        (AlertKind.RECOVERY, "source oaic-media recovered (was failing)")]
    assert _poll(BASELINED, [_item(1)], [_item(1)]).alerts == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(("listed", "known", "edited"), [
    (("Statement", "Summary"), ("Statement", "Summary"), False),
    (("Statement  on   X", "Summary"), ("Statement on X", "Summary"), False),  # spacing only
    (("Statement, updated", "Summary"), ("Statement", "Summary"), True),
    (("Statement", "New summary"), ("Statement", "Summary"), True),
    (("Statement", ""), ("Statement", "Summary"), False),  # a feed and its fallback listing
    (("Statement", "Summary"), ("Statement", ""), False),
])
def test_what_counts_as_an_edit(listed: tuple[str, str], known: tuple[str, str],
                                edited: bool) -> None:
    item = _item(1, listed[0], listed[1])
    assert decide.is_edited(item, KnownItem(1, item.key, known[0], known[1])) == edited
    plan = decide.plan_poll(BASELINED, _listing([item]), {item.key: KnownItem(
        1, item.key, known[0], known[1])}, _match, _everywhere(), ORIGIN, SETTINGS)
    assert isinstance(plan, PollPlan) and len(plan.edits) == int(edited)


def test_a_statement_listed_under_a_new_url_is_a_move_not_news() -> None:
    old, new = _item(1, "Statement on Clearview AI", day=date(2024, 8, 21)), \
        _item(2, "Statement on  Clearview AI", day=date(2024, 8, 21))
    known = KnownItem(5, old.key, old.title, "")
    plan = decide.plan_poll(BASELINED, _listing([new]), {}, _match, _everywhere("slack"), ORIGIN,
                            SETTINGS, {new.key: known})
    assert isinstance(plan, PollPlan)
    assert (plan.new, [(m.known.id, m.item.key) for m in plan.moves]) == ((), [(5, new.key)])


@pytest.mark.parametrize(("a", "b", "same"), [
    (("Statement on Clearview AI", date(2024, 8, 21)), ("statement on  clearview ai",
                                                         date(2024, 8, 21)), True),
    (("Statement on Clearview AI", date(2024, 8, 21)), ("Statement on Clearview AI",
                                                         date(2024, 8, 22)), False),
    (("Statement on Clearview AI", None), ("Statement on Clearview AI", None), False),
])
def test_what_makes_two_listings_one_story(a: tuple[str, date | None], b: tuple[str, date | None],
                                           same: bool) -> None:
    first, second = decide.story_key(*a), decide.story_key(*b)
    assert (first is not None and first == second) == same


# -- a failed poll ------------------------------------------------------------------------------

@pytest.mark.parametrize(("health", "failures", "failure", "after", "alerted"), [
    (Health.OK, 0, Failure("HTTP 500", FetchErrorKind.HTTP), Health.OK, False),
    (Health.OK, 1, Failure("HTTP 500", FetchErrorKind.HTTP), Health.OK, False),
    (Health.OK, 2, Failure("HTTP 500", FetchErrorKind.HTTP), Health.FAILING, True),
    (Health.FAILING, 5, Failure("timed out", FetchErrorKind.TIMEOUT), Health.FAILING, False),
    (Health.OK, 0, Failure("challenged", FetchErrorKind.BLOCKED), Health.BLOCKED, True),
    (Health.BLOCKED, 1, Failure("challenged", FetchErrorKind.BLOCKED), Health.BLOCKED, False),
    (Health.OK, 0, Failure("yielded 0 items", degraded=True), Health.DEGRADED, True),
    (Health.DEGRADED, 1, Failure("HTTP 500", FetchErrorKind.HTTP), Health.DEGRADED, False),
    (Health.DEGRADED, 2, Failure("HTTP 500", FetchErrorKind.HTTP), Health.FAILING, True),
])
def test_the_health_a_failure_leaves(health: Health, failures: int, failure: Failure,
                                     after: Health, alerted: bool) -> None:
    plan = decide.plan_failure(SourceSnapshot("ico-news", health=health, failures=failures,
                                              ever_succeeded=True), failure, SETTINGS)
    assert (plan.health, plan.failures) == (after, failures + 1)
    assert [a.kind for a in plan.alerts] == ([AlertKind.HEALTH] if alerted else [])
    if alerted:
        assert plan.alerts[0].message == f"source ico-news is now {after}: {failure.message}"


@pytest.mark.parametrize(("failure", "after"), [
    (Failure("HTTP 500", FetchErrorKind.HTTP), Health.FAILING),
    (Failure("network error", FetchErrorKind.NETWORK), Health.FAILING),
    (Failure("challenged", FetchErrorKind.BLOCKED), Health.BLOCKED),
])
def test_a_source_that_never_worked_fails_at_its_first_failure(failure: Failure,
                                                               after: Health) -> None:
    plan = decide.plan_failure(SourceSnapshot("ico-news"), failure, SETTINGS)
    assert (plan.health, plan.health_changed) == (after, True)


def _days(*offsets: int) -> tuple[date, ...]:
    return tuple(date(2026, 11, 1) - timedelta(days=n) for n in offsets)


@pytest.mark.parametrize(("recent", "today", "stale"), [
    (_days(0, 7, 14, 21, 28, 35), date(2026, 11, 20), False),  # weekly, 19 days quiet: fine
    (_days(0, 7, 14, 21, 28, 35), date(2026, 12, 1), True),  # weekly, 30 days quiet
    (_days(0, 1, 2, 3, 4, 5), date(2026, 11, 15), False),  # daily, but under three weeks
    (_days(0, 1, 2, 3, 4, 5), date(2026, 11, 25), True),
    (_days(0, 30, 60, 90, 120, 150), date(2027, 1, 30), False),  # monthly: 90 days allowed
    (_days(0, 30, 60, 90, 120, 150), date(2027, 3, 1), True),
    (_days(0, 7, 14, 100, 107, 114), date(2026, 11, 20), False),  # a summer break is not usual
    (_days(0, 7, 14, 100, 107, 114), date(2026, 11, 25), True),
    (_days(0, 7, 14), date(2027, 11, 1), False),  # too little history to know what is usual
])
def test_a_source_is_stale_when_quiet_for_far_longer_than_its_history_says(
    recent: tuple[date, ...], today: date, stale: bool
) -> None:
    snapshot = SourceSnapshot("opc-news", baseline_at=T0, today=today, recent_days=recent,
                              ever_succeeded=True)
    assert (decide.stale_message(snapshot) is not None) == stale
    plan = _poll(snapshot, [_item(1)], [_item(1)])
    assert isinstance(plan, PollPlan)
    assert plan.health == (Health.STALE if stale else Health.OK)
    assert [a.kind for a in plan.alerts] == ([AlertKind.HEALTH] if stale else [])


def test_a_stale_source_that_publishes_again_recovers_once() -> None:
    snapshot = SourceSnapshot("opc-news", baseline_at=T0, health=Health.STALE, today=date(
        2026, 12, 1), recent_days=_days(0, 7, 14, 21, 28, 35), ever_succeeded=True)
    plan = _poll(snapshot, [_item(1), _item(2)], [_item(2)])  # something new
    assert isinstance(plan, PollPlan)
    assert plan.health == Health.OK
    assert [a.message for a in plan.alerts] == ["source opc-news recovered (was stale)"]


def test_a_backfill_makes_the_baseline_only_where_there_is_none() -> None:
    assert decide.backfill_makes_baseline(None)
    assert not decide.backfill_makes_baseline(T0)


# -- statements' pages --------------------------------------------------------------------------

@pytest.mark.parametrize(("is_new", "matched", "result", "announced"), [
    (True, False, CLEARVIEW, True),  # named only in the body of a new statement: announce now
    (True, True, CLEARVIEW, False),  # announced already, from its title
    (False, False, CLEARVIEW, False),  # history (the baseline or a backfill)
    (True, False, NOTHING, False),
])
def test_a_page_read_announces_a_statement_that_matches_only_on_its_body(
    is_new: bool, matched: bool, result: MatchResult, announced: bool
) -> None:
    pending = PendingBody(7, "https://oaic.example/s/7", "https://oaic.example/s/7", "T", "S", 0,
                          is_new, matched)
    plan = decide.plan_body(pending, "text", "main", pending.url, Validators(), "hash", result,
                            _everywhere("slack", "webhook"), ABOUT)
    assert len(plan.outbox) == (2 if announced else 0)


@pytest.mark.parametrize(("attempts", "forbidden", "state"), [
    (0, False, BodyState.PENDING),
    (1, False, BodyState.PENDING),
    (2, False, BodyState.MISSING),  # the third attempt was the last
    (0, True, BodyState.MISSING),  # robots.txt forbids the page: no point trying again
])
def test_a_page_that_cannot_be_read_is_retried_then_given_up(attempts: int, forbidden: bool,
                                                             state: BodyState) -> None:
    pending = PendingBody(7, "k", "u", "T", "S", attempts, True, False)
    plan = decide.plan_body_failure(pending, hopeless=forbidden)
    assert (plan.attempts, plan.state) == (attempts + 1, state)


@pytest.mark.parametrize(("before", "after", "added"), [
    ((), ("Clearview AI",), ("Clearview AI",)),
    (("Clearview AI",), ("Clearview AI",), ()),
    (("Clearview AI",), ("PimEyes", "Clearview AI"), ("PimEyes",)),
    (("Clearview AI", "PimEyes"), ("Clearview AI",), ()),  # a company removed is not news
])
def test_an_edit_is_announced_only_for_the_companies_it_adds(
    before: tuple[str, ...], after: tuple[str, ...], added: tuple[str, ...]
) -> None:
    result = MatchResult(tuple(Match(c, c, "r", "s", "body") for c in after))
    plan = decide.plan_edit(1, before, "T", "S", "body", Validators("e"), "h", "v", result,
                            _everywhere("slack"), ABOUT)
    assert plan.added == added
    assert [r.announcement for r in plan.outbox] == ([Announcement(added)] if added else [])


def test_a_re_read_page_changed_only_when_its_text_hash_moved() -> None:
    candidate = RecheckCandidate(1, "u", "T", "S", Validators("e"), decide.text_hash("old"), ())
    assert not decide.page_changed(candidate, decide.text_hash("old"))
    assert decide.page_changed(candidate, decide.text_hash("new"))


def test_recent_statements_are_re_read_about_once_a_day() -> None:
    first_seen_after, read_before = decide.recheck_window(T0)
    assert (T0 - first_seen_after).days == decide.RECHECK_DAYS
    assert (T0 - read_before).total_seconds() == decide.RECHECK_HOURS * 3600


@pytest.mark.parametrize(("kind", "status", "deferred", "hopeless"), [
    (FetchErrorKind.WAITING, None, True, False),  # a pause reported earlier
    (FetchErrorKind.DEFERRED, None, True, False),  # a pause another page started this poll
    (FetchErrorKind.HTTP, 429, True, False),  # the site asked us to slow down
    (FetchErrorKind.HTTP, 503, True, False),
    (FetchErrorKind.HTTP, 500, False, False),
    (FetchErrorKind.TIMEOUT, None, False, False),
    (FetchErrorKind.ROBOTS, None, False, True),
    (FetchErrorKind.BAD_URL, None, False, True),
])
def test_a_page_put_off_keeps_its_attempts_and_a_hopeless_one_is_given_up(
    kind: FetchErrorKind, status: int | None, deferred: bool, hopeless: bool
) -> None:
    assert decide.page_deferred(kind, status) == deferred
    assert decide.page_hopeless(kind) == hopeless


@pytest.mark.parametrize(("count", "usable"), [(None, None), (0, None), (-3, None), (1, 1),
                                               (120, 120)])
def test_only_a_plausible_page_count_is_used(count: int | None, usable: int | None) -> None:
    assert decide.usable_page_count(count) == usable


# -- joint events -------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "candidates", "event"), [
    ("Clearview AI ordered to delete Australians' data",
     [EventCandidate(3, "ICO", "ICO orders Clearview AI to delete UK data", 3)], 3),
    ("Clearview AI ordered to delete data",
     [EventCandidate(3, "ICO", "Annual report 2025", 3)], None),
    ("Clearview AI fined", [EventCandidate(3, "ICO", "Clearview AI told to pay", 2),
                            EventCandidate(5, "OPC", "Clearview AI fined in Canada", 5)], 5),
    ("Clearview AI fined", [], None),
])
def test_a_statement_joins_the_event_with_the_most_alike_headline(
    title: str, candidates: list[EventCandidate], event: int | None
) -> None:
    assert decide.choose_event(title, candidates) == event


# -- backfill -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "page", "total", "end"), [
    (0, 0, None, True), (10, 0, None, False), (10, 2, 3, True), (10, 1, 3, False)])
def test_where_an_archive_ends(count: int, page: int, total: int | None, end: bool) -> None:
    assert decide.archive_ends([_item(n) for n in range(count)], page, total) == end


@pytest.mark.parametrize(("days", "since", "older"), [
    ([date(2019, 5, 1), date(2019, 6, 1)], date(2020, 1, 1), True),
    ([date(2019, 5, 1), date(2020, 6, 1)], date(2020, 1, 1), False),  # straddles: kept whole
    ([date(2019, 5, 1), None], date(2020, 1, 1), False),  # an undated statement is kept
    ([date(2019, 5, 1)], None, False),
])
def test_a_page_wholly_older_than_asked_ends_a_walk(days: list[date | None], since: date | None,
                                                   older: bool) -> None:
    items = [_item(n, day=d) for n, d in enumerate(days)]
    assert decide.wholly_older(items, since) == older


def test_history_records_only_the_unknown_and_announces_nothing() -> None:
    items = [_item(1, "Clearview AI fined"), _item(2)]
    new = decide.plan_history(items, {items[1].key}, _match)
    assert [(n.item.key, n.is_new, n.outbox) for n in new] == [(items[0].key, False, ())]
    assert new[0].result == CLEARVIEW


@pytest.mark.parametrize(("stops", "since", "both", "words"), [
    ((BackfillStop.END,), None, False, "reached the end of the archive"),
    ((BackfillStop.END, BackfillStop.END), None, True,
     "reached the end of the archive (walked in both orders)"),
    ((BackfillStop.DATE,), date(2024, 1, 1), False, "reached 2024-01-01"),
    ((BackfillStop.FINISHED_BEFORE, BackfillStop.END), None, True,
     "the archive was read to its end before; reached the end of the archive"),
])
def test_why_a_backfill_stopped_in_words(stops: tuple[BackfillStop, ...], since: date | None,
                                         both: bool, words: str) -> None:
    assert BackfillReport("s", 1, 1, stops, since, both).describe() == words


@pytest.mark.parametrize(("announcement", "stored"), [
    (Announcement(), "new"), (Announcement(("PimEyes",)), "edit: PimEyes"),
    (Announcement(("Clearview AI", "PimEyes")), "edit: Clearview AI, PimEyes")])
def test_announcements_keep_the_stored_values(announcement: Announcement, stored: str) -> None:
    assert announcement.stored() == stored
    assert Announcement.parse(stored) == announcement



# -- routes, digests and statement types -------------------------------------------------------

LEGAL = Route(channel="email", companies=("Clearview AI", "PimEyes"), mode="daily", at="08:00",
              timezone="Europe/London")
UK_DESK = Route(channel="teams", regulators=("ICO",))
EVERYTHING = Route(channel="discord")
ICO = decide.About("ICO", "gb", StatementType.FINE, "en")
OAIC_ABOUT = decide.About("OAIC", "au", StatementType.INVESTIGATION, "en")
CNIL = decide.About("CNIL", "fr", StatementType.FINE, "fr")


@pytest.mark.parametrize(("companies", "about", "channels"), [
    (("Clearview AI",), ICO, {"email", "teams", "discord"}),
    (("Bunnings",), ICO, {"teams", "discord"}),
    (("PimEyes",), OAIC_ABOUT, {"email", "discord"}),
    (("Bunnings",), OAIC_ABOUT, {"discord"}),
])
def test_the_three_routes_take_each_statement_where_it_belongs(
        companies: tuple[str, ...], about: decide.About, channels: set[str]) -> None:
    rows = decide.Routing((LEGAL, UK_DESK, EVERYTHING), NOW).rows(companies, about)
    assert {r.channel for r in rows} == channels
    digest = [r for r in rows if r.channel == "email"]
    assert all(r.due_at == datetime(2026, 11, 29, 8, 0, tzinfo=UTC) and
               r.digest == "daily at 08:00 Europe/London" for r in digest)
    assert all(r.due_at is None for r in rows if r.channel != "email")


@pytest.mark.parametrize(("route", "about", "takes"), [
    (Route(channel="x", jurisdictions=("ca",)), decide.About("OIPC BC", "ca-bc",
                                                                 StatementType.OTHER, "en"), True),
    (Route(channel="x", jurisdictions=("ca-bc",)), decide.About("OPC", "ca",
                                                                    StatementType.OTHER, "en"), False),
    (Route(channel="x", jurisdictions=("ca",)), decide.About("CAI", "cat", StatementType.OTHER,
                                                              "fr"), False),
    (Route(channel="x", types=(StatementType.FINE,)), CNIL, True),
    (Route(channel="x", types=(StatementType.SPEECH,)), CNIL, False),
    (Route(channel="x", languages=("fr",)), CNIL, True),
    (Route(channel="x", languages=("en",), regulators=("CNIL",)), CNIL, False),
])
def test_every_filter_of_a_route_must_hold(route: Route, about: decide.About,
                                           takes: bool) -> None:
    assert decide.route_takes(route, ("Clearview AI",), about) is takes


def test_an_instant_route_beats_a_digest_to_the_same_channel() -> None:
    both = (LEGAL, Route(channel="email", regulators=("ICO",)))
    [row] = decide.Routing(both, NOW).rows(("Clearview AI",), ICO)
    assert (row.channel, row.due_at, row.digest) == ("email", None, None)


LONDON_DAILY = Route(channel="e", mode="daily", at="08:00", timezone="Europe/London")


@pytest.mark.parametrize(("now", "window"), [
    # British Summer Time ends on Sunday 25 October 2026: 08:00 is 07:00 UTC, then 08:00 UTC
    (datetime(2026, 10, 24, 6, 59, tzinfo=UTC), datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
    (datetime(2026, 10, 24, 7, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    (datetime(2026, 10, 25, 7, 30, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    # and begins on Sunday 29 March 2026
    (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
])
def test_a_daily_digest_stays_at_its_local_time_across_daylight_saving(
        now: datetime, window: datetime) -> None:
    assert decide.next_window(LONDON_DAILY, now) == window


def test_a_weekly_digest_waits_for_its_day() -> None:
    weekly = Route(channel="e", mode="weekly", day="monday", at="09:30", timezone="America/Toronto")
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert decide.next_window(weekly, saturday) == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    monday_after = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    assert decide.next_window(weekly, monday_after) == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(("title", "tags", "kind"), [
    ("ICO fines Clearview AI Inc more than £7.5m", (), StatementType.FINE),
    ("Clearview AI Inc", ("Monetary penalties",), StatementType.FINE),
    ("Serco Leisure", ("Enforcement notices",), StatementType.ENFORCEMENT_NOTICE),
    ("Chelmer Valley High School", ("Reprimands",), StatementType.REPRIMAND),
    ("Bunnings breached Australians’ privacy with facial recognition tool", (),
     StatementType.OTHER),
    ("Investigation into Clearview AI", (), StatementType.INVESTIGATION),
    ("Commissioner’s speech to the IAPP", (), StatementType.SPEECH),
    ("Guidance on biometric recognition", (), StatementType.GUIDANCE),
    ("Rite Aid Banned from Using AI Facial Recognition", (), StatementType.ENFORCEMENT_NOTICE),
    ("Riconoscimento facciale: il Garante privacy sanziona Clearview", (), StatementType.FINE),
    ("Απόφαση 35/2022", (), StatementType.DECISION),
    ("Poliisi: vägledning om kameraövervakning", (), StatementType.GUIDANCE),
    ("Edmonton Police Service’s use of Clearview AI contravened the FOIP Act", (),
     StatementType.OTHER),
])
def test_a_statement_type_comes_from_the_listings_labels_then_its_title(
        title: str, tags: tuple[str, ...], kind: StatementType) -> None:
    assert decide.statement_type(title, tags) == kind
