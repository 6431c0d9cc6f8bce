"""Reads `sources.toml` (and the watchlist file it names) into validated, frozen settings.

Every problem in a file is reported at once, each with the file, the key path, the line where
it can be found and what is wrong. Unknown keys are errors: a typo must never be ignored.
Secrets (webhook URLs, signing keys) are not configuration: they come from the environment.

The settings are plain frozen dataclasses. Their constraints are written in their annotations
(`Ge`, `Le` from annotated-types, `_Check` for regmon's own checks), which pydantic reads when
it validates a file; pydantic is imported only then, so a run whose files are unchanged since
they were last validated (`monitor.config_cache`) never loads it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Gt, Le

from monitor.errors import ConfigError, ConfigProblem
from monitor.model import StatementType

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, ValidationError
    from pydantic_core import CoreSchema

MIN_INTERVAL_MINUTES = 5
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # an ISO 639 code: "en", "fr", "el"
LANGUAGE_NAMES = {"en": "English", "fr": "French", "it": "Italian", "de": "German",
                  "nl": "Dutch", "es": "Spanish", "el": "Greek", "sv": "Swedish",
                  "pt": "Portuguese", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
                  "pl": "Polish", "cy": "Welsh", "mi": "Māori"}
JURISDICTION = re.compile(r"^[a-z]{2}(-[a-z0-9]{1,3})?$")  # "ca", "ca-bc", "eu", "de-bw"

T = TypeVar("T")


class _Check:
    """A check on one value, written in its annotation: `Annotated[str, _Check(fn)]`. `fn`
    returns the value or raises ValueError; with `sees_earlier`, it is also given the values of
    the fields declared before it (a URL's check reads `allow_http`)."""

    def __init__(self, check: Callable[..., Any], *, sees_earlier: bool = False,
                 before: bool = False) -> None:
        self.check = check
        self.sees_earlier = sees_earlier
        self.before = before

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        inner = handler(source)
        if self.before:
            return core_schema.no_info_before_validator_function(self.check, inner)
        if self.sees_earlier:
            check = self.check
            return core_schema.with_info_after_validator_function(
                lambda value, info: check(value, info.data), inner)
        return core_schema.no_info_after_validator_function(self.check, inner)


class _Tagged:
    """A union told apart by one key (`kind`), so a wrong kind is one error, not one per
    member of the union."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic import Field

        return handler(Annotated[source, Field(discriminator=self.key)])


class _Strict:
    """Unknown keys are errors and strings lose surrounding blanks (read by pydantic)."""

    __pydantic_config__: ClassVar[dict[str, object]] = {"extra": "forbid",
                                                        "str_strip_whitespace": True}


def _doc(text: str) -> dict[str, str]:
    """A setting's one-line description, as the README's settings reference prints it."""
    return {"doc": text}


DEFAULT_BASE_URL = "http://127.0.0.1:8421/"


@dataclass(frozen=True, kw_only=True)
class Settings(_Strict):
    """How regmon behaves toward the sites and where it publishes."""

    min_delay_seconds: Annotated[float, Ge(0)] = field(
        default=2.0, metadata=_doc("pause between requests to one host"))
    timeout_seconds: Annotated[float, Gt(0)] = field(
        default=20.0, metadata=_doc("connect and read timeout"))
    deadline_seconds: Annotated[float, Gt(0)] = field(
        default=60.0, metadata=_doc("overall limit for one request"))
    max_body_bytes: Annotated[int, Gt(0)] = field(
        default=10_000_000, metadata=_doc("limit on a decompressed body"))
    max_articles_per_poll: Annotated[int, Ge(0)] = field(
        default=40, metadata=_doc("article pages read per source poll"))
    retries: Annotated[int, Ge(0), Le(5)] = field(
        default=2, metadata=_doc("retries of a failed request within a poll"))
    retry_base_seconds: Annotated[float, Ge(0)] = field(
        default=2.0, metadata=_doc("first retry pause, then doubled"))
    failing_after: Annotated[int, Ge(1)] = field(
        default=3, metadata=_doc("consecutive failed polls before 'failing'"))
    degraded_share: Annotated[float, Ge(0), Le(1)] = field(
        default=0.3, metadata=_doc("a listing this much smaller than usual is 'degraded'"))
    feeds_base_url: str | None = field(
        default=None, metadata=_doc("the public URL the feeds are served from (links in feeds, "
                                    "OPML and messages); unset, the feed server's own address"))
    serve_idle_seconds: Annotated[float, Gt(0)] = field(
        default=30.0, metadata=_doc("the feed server closes a connection idle this long"))
    serve_host_names: tuple[str, ...] = field(
        default=(), metadata=_doc("Host names the feed server answers to besides IP addresses, "
                                  "localhost and feeds_base_url's host (a reverse proxy's public "
                                  "name)"))
    feed_size: Annotated[int, Ge(1)] = field(default=100, metadata=_doc("entries per feed"))
    topic_feed: bool = field(
        default=False, metadata=_doc("also write topic.atom: statements about facial "
                                     "recognition that name no watched company"))
    digest_threshold: Annotated[int, Ge(1)] = field(
        default=5, metadata=_doc("more new statements: one Slack digest"))
    storm_min: Annotated[int, Ge(1)] = field(
        default=5, metadata=_doc("new items in one poll before a storm is suspected"))
    storm_share: Annotated[float, Gt(0), Le(1)] = field(
        default=0.5, metadata=_doc("share of a listing new at once that holds notifications"))
    robots_txt: bool = field(default=True, metadata=_doc("read and obey each host's robots.txt"))
    allow_unsigned_webhook: bool = field(
        default=False, metadata=_doc("send the generic webhook without REGMON_WEBHOOK_SECRET"))
    startup_spread_seconds: Annotated[float, Ge(0)] = field(
        default=60.0, metadata=_doc("the daemon's first polls are spread over this long"))
    delivery_interval_seconds: Annotated[float, Gt(0)] = field(
        default=60.0, metadata=_doc("how often the daemon drains the outbox"))

    @property
    def base_url(self) -> str:
        """Where links to the feeds point: `feeds_base_url`, else the feed server's default
        address (which the server replaces with the address it is reached at)."""
        return self.feeds_base_url or DEFAULT_BASE_URL


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/London')") from exc
    return value


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


def _check_selector(value: str | None) -> str | None:
    if value is not None and not _selector_ok(value):
        raise ValueError(f"not a valid CSS selector: {value!r}")
    return value


def _check_selectors(value: tuple[str, ...]) -> tuple[str, ...]:
    for selector in value:
        _check_selector(selector)
    return value


@functools.lru_cache(maxsize=1024)
def _selector_ok(selector: str) -> bool:
    """Whether lexbor can parse `selector` (asked once per distinct selector)."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except Exception:  # selectolax raises plain exceptions for bad selectors
        return False
    return True


def _check_languages(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("needs at least one language, like [\"en\"]")
    for code in value:
        if not LANGUAGE.match(code):
            raise ValueError(f"{code!r} is not a language code (ISO 639, like 'fr' or 'el')")
    return value


def _check_jurisdiction(value: str | None) -> str | None:
    if value is not None and not JURISDICTION.match(value):
        raise ValueError(f"{value!r} is not a jurisdiction code: a country ('nz', 'eu') or a "
                         "country and a province or state ('ca-bc', 'de-bw'), lower case")
    return value


def _check_slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError("must be lower-case letters, digits and hyphens, like 'ico-news'")
    return value


def _check_interval(value: float, earlier: Mapping[str, Any]) -> float:
    # The floor protects the sites we read from a typo; a site on this very machine (a
    # test stand-in, a benchmark) may be asked as often as one likes.
    host = urlsplit(str(earlier.get("url", ""))).hostname or ""
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    if value <= 0 or (value < MIN_INTERVAL_MINUTES and not loopback):
        raise ValueError(
            f"{value:g} minutes is too often for a government site; the floor is "
            f"{MIN_INTERVAL_MINUTES}"
        )
    return value


def _check_url(value: str, earlier: Mapping[str, Any]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not earlier.get("allow_http"):
        raise ValueError(f"{value!r} uses plain http; set allow_http = true to permit it")
    return value


Selector = Annotated[str, _Check(_check_selector)]
Selectors = Annotated[tuple[str, ...], _Check(_check_selectors)]
Pattern = Annotated[str, _Check(_check_regex)]


@dataclass(frozen=True, kw_only=True)
class _SourceBase(_Strict):
    id: Annotated[str, _Check(_check_slug)]
    regulator: str
    name: str = ""
    allow_http: bool = False
    url: Annotated[str, _Check(_check_url, sees_earlier=True)]
    timezone: Annotated[str, _Check(_check_timezone)] = "UTC"
    interval_minutes: Annotated[float, _Check(_check_interval, sees_earlier=True)] = 30
    allowed_hosts: tuple[str, ...] = ()
    host_aliases: dict[str, str] = field(default_factory=dict)
    url_prefixes: tuple[str, ...] = ()
    pages: Annotated[int, Ge(1), Le(50)] = 1
    page_param: str | None = None
    page_start: int = 1
    page_step: int = 1
    date_format: str | None = None
    date_regex: Pattern | None = None
    date_from_url: Pattern | None = None
    fetch_articles: bool = True
    article_body: Selectors = ()
    article_strip: Selectors = ()
    article_date: Selector | None = None
    attachments: Selectors = ()
    fetch_attachments: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    min_items: Annotated[int, Ge(0)] = 1  # fewer items than this on a page is a health alarm
    enabled: bool = True
    languages: Annotated[tuple[str, ...], _Check(_check_languages)] = ("en",)  # the first is a
    # statement's unless its page says
    jurisdiction: Annotated[str | None, _Check(_check_jurisdiction)] = None
    unverified: str | None = None  # why the stanza is not yet trusted (markup never seen)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts this source may fetch from and link to: its own, plus any allowed explicitly."""
        own = urlsplit(self.url).hostname or ""
        return (own, *self.allowed_hosts, *self.host_aliases.keys())


@dataclass(frozen=True, kw_only=True)
class HtmlSource(_SourceBase):
    """A server-rendered listing page read with CSS selectors."""

    kind: Literal["html"]
    item: Selector
    title: Selector
    link: Selector | None = None
    link_attr: str = "href"
    summary: Selector | None = None
    date: Selector | None = None
    date_attr: str | None = None
    tags: Selector | None = None
    unwrap_param: str | None = None


@dataclass(frozen=True, kw_only=True)
class JsonSource(_SourceBase):
    """A JSON API read with dotted field paths (`results`, `pagination.totalPages`)."""

    kind: Literal["json"]
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, Any] = field(default_factory=dict)
    items_path: str
    title_path: str = "title"
    link_path: str = "url"
    summary_path: str | None = None
    date_path: str | None = None
    total_pages_path: str | None = None
    tags_path: str | None = None  # a row's labels (its type: "Monetary penalties")
    tags_regex: Pattern | None = None  # the part of that text to keep: the first group
    order_param: str | None = None  # the body key that orders the results ("order")
    backfill_orders: tuple[str, ...] = ()  # a backfill walks the archive in each of these


@dataclass(frozen=True, kw_only=True)
class FeedSource(_SourceBase):
    """An RSS 2.0 or Atom feed, optionally with a listing page to read when the feed fails."""

    kind: Literal["feed"]
    fallback: Annotated[HtmlSource | JsonSource, _Tagged("kind")] | None = None


Source = HtmlSource | JsonSource | FeedSource
AnySource = Annotated[Source, _Tagged("kind")]


@dataclass(frozen=True, kw_only=True)
class LanguageWords(_Strict):
    """One language's words that show a passage is about facial recognition."""

    near: tuple[str, ...] = ()  # any of these near an ambiguous alias lets it count
    weak: tuple[str, ...] = ()  # generic words (camera, photos): they count near an ambiguous
    # alias only in a statement that mentions facial recognition or biometrics somewhere
    topic: tuple[str, ...] = ()  # these anywhere make the statement about facial recognition


def _language_tables(data: Any) -> Any:
    """`[context.fr]` in the file is `languages["fr"]` in ContextRules."""
    if not isinstance(data, dict):
        return data
    own = {f.name for f in dataclasses.fields(ContextRules)}
    tables = {k: v for k, v in data.items()
              if k not in own and LANGUAGE.match(k) and isinstance(v, dict)}
    if not tables:
        return data
    return {**{k: v for k, v in data.items() if k not in tables}, "languages": tables}


@dataclass(frozen=True, kw_only=True)
class ContextRules(LanguageWords):
    """Words that show a passage is about facial recognition: its own lists are English and
    count in every statement; `[context.<language>]` tables count in that language's."""

    window_words: Annotated[int, Ge(1), Le(200)] = 25
    languages: dict[str, LanguageWords] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Company(_Strict):
    """A watched company, its aliases and the rules for its ambiguous names."""

    name: str
    kind: Literal["vendor", "operator"] = "vendor"
    aliases: tuple[str, ...] = ()
    needs_context: tuple[str, ...] = ()
    case_sensitive: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    requires_topic: bool = False
    context: Literal["near", "topic"] = "near"
    window_words: Annotated[int, Ge(1), Le(200)] | None = None  # overrides [context]
    note: str = ""

    def __post_init__(self) -> None:
        names = set(self.aliases) | set(self.needs_context)
        if not names:
            raise ValueError("needs at least one entry in aliases or needs_context")
        unknown = [c for c in self.case_sensitive if c not in names]
        if unknown:
            raise ValueError(f"case_sensitive names {unknown} that are not aliases")


@dataclass(frozen=True, kw_only=True)
class Watchlist(_Strict):
    """The companies to watch and the context rules shared by all of them."""

    context: Annotated[ContextRules, _Check(_language_tables, before=True)] = ContextRules()
    company: tuple[Company, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for company in self.company:
            if company.name in seen:
                raise ValueError(f"company {company.name!r} is listed twice")
            seen.add(company.name)


CHANNEL = re.compile(r"^[a-z][a-z0-9-]*$")
BUILT_IN_CHANNELS = ("slack", "webhook")  # configured by their own variables, as before routes
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, kw_only=True)
class ChannelConfig(_Strict):
    """A named place notifications go. Its URL (with any password) is a secret: it comes from
    REGMON_CHANNEL_<NAME>_URL or the credential channel-<name>-url, never from this file."""

    kind: Literal["slack", "webhook", "email", "teams", "discord", "ntfy", "apprise"]
    to: tuple[str, ...] = ()  # email: the recipients
    sender: str | None = None  # email: the From address
    subject_prefix: str = "[regmon]"  # email

    def __post_init__(self) -> None:
        if self.kind == "email" and (not self.to or not self.sender):
            raise ValueError("an email channel needs `to` (a list of addresses) and `sender`")
        if self.kind != "email" and (self.to or self.sender):
            raise ValueError("`to` and `sender` are for email channels only")
        for address in (*self.to, *([self.sender] if self.sender else [])):
            if "@" not in address or any(c in address for c in "\r\n,;"):
                raise ValueError(f"{address!r} is not one email address")


def _check_time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day like '08:00'")
    return value


def _check_jurisdictions(value: tuple[str, ...]) -> tuple[str, ...]:
    for code in value:
        if not JURISDICTION.match(code):
            raise ValueError(f"{code!r} is not a jurisdiction code like 'gb' or 'ca-bc'")
    return value


@dataclass(frozen=True, kw_only=True)
class Route(_Strict):
    """Which statements go to a channel, and when: every filter given must hold (a filter
    lists alternatives); `instant`, or a `daily` digest at `at` in `timezone`, or a `weekly`
    one on `day`."""

    channel: str
    companies: tuple[str, ...] = ()
    regulators: tuple[str, ...] = ()
    jurisdictions: Annotated[tuple[str, ...], _Check(_check_jurisdictions)] = ()  # "ca" takes
    # in "ca-bc"
    types: tuple[StatementType, ...] = ()
    languages: tuple[str, ...] = ()
    mode: Literal["instant", "daily", "weekly"] = "instant"
    at: Annotated[str, _Check(_check_time_of_day)] = "08:00"
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday"] = "monday"
    timezone: Annotated[str, _Check(_check_timezone)] = "UTC"

    def describe(self) -> str:
        """The route in words, for `regmon check`."""
        filters = [f"{name} {', '.join(map(str, values))}" for name, values in (
            ("companies", self.companies), ("regulators", self.regulators),
            ("jurisdictions", self.jurisdictions), ("types", self.types),
            ("languages", self.languages)) if values]
        return f"{'; '.join(filters) or 'every statement'}: {self.window()}"

    def window(self) -> str:
        """When it sends, in words: "instantly", "daily at 08:00 Europe/London"."""
        return {"instant": "instantly", "daily": f"daily at {self.at} {self.timezone}",
                "weekly": f"weekly on {self.day.title()} at {self.at} {self.timezone}"}[self.mode]


@dataclass(frozen=True, kw_only=True)
class Notifications(_Strict):
    """Named channels and the routes to them. Without routes, every configured channel gets
    every statement at once (Slack and the webhook, as before routes existed)."""

    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _FileConfig(_Strict):
    watchlist: str = "watchlist.toml"
    include: tuple[str, ...] = ()  # files of [[sources]] stanzas (the regulators/ catalogue)
    settings: Settings = Settings()
    sources: tuple[AnySource, ...] = ()
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        for name in self.channels:
            if not CHANNEL.match(name) or name in (*BUILT_IN_CHANNELS, "operator"):
                raise ValueError(f"channel name {name!r} must be lower-case letters, digits and "
                                 "hyphens, and not slack, webhook or operator (those are built in)")
        known = (*self.channels, *BUILT_IN_CHANNELS)
        for route in self.routes:
            if route.channel not in known:
                raise ValueError(f"a route names the channel {route.channel!r}, which is not "
                                 f"defined (channels: {', '.join(known)})")


@dataclass(frozen=True, kw_only=True)
class _IncludedFile(_Strict):
    """A file `include` names: [[sources]] stanzas and nothing else."""

    sources: tuple[AnySource, ...]


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole validated configuration."""

    path: Path
    settings: Settings
    sources: tuple[Source, ...]
    watchlist: Watchlist
    notifications: Notifications = Notifications()
    read_from: tuple[Path, ...] = ()  # every file it was read from, absolute, `path` first

    def source(self, source_id: str) -> Source:
        """The source with this id; KeyError when there is none."""
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def validated(kind: type[T], data: object) -> T:
    """`data` (a parsed TOML table) checked and turned into a `kind`; pydantic's
    ValidationError lists every problem. pydantic is imported here, on the first call."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter.validate_python(data)  # type: ignore[no-any-return]


_ADAPTERS: dict[type[Any], Any] = {}  # one per kind: building one costs more than validating


def load_config(path: Path) -> Config:
    """Read and validate `path`, the files it includes and the watchlist it names. Raises
    ConfigError listing every problem, each with file, key path and line."""
    text = _read(path)
    raw = _parse_toml(path, text)
    parsed = _checked(_FileConfig, path, text, raw)
    sources = [(source, path) for source in parsed.sources]
    problems: list[ConfigProblem] = []
    for name in parsed.include:
        line = next((n for n, each in enumerate(text.splitlines(), start=1)
                     if f'"{name}"' in each or f"'{name}'" in each), _find_line(text, ["include"]))
        where = f"included from {path}:{line}" if line else f"included from {path}"
        try:
            sources += [(s, path.parent / name) for s in load_included(path.parent / name, where)]
        except ConfigError as error:
            problems += error.problems
    if not problems and not sources:
        problems.append(ConfigProblem(str(path), "sources", None,
                                      "no sources: add a [[sources]] stanza or an include"))
    seen: dict[str, Path] = {}
    for source, origin in sources:
        if source.id in seen:
            problems.append(ConfigProblem(
                str(origin), "sources", None, f"source ids must be unique; {source.id!r} is "
                f"also in {seen[source.id]}" if seen[source.id] != origin else
                f"source ids must be unique; repeated: {source.id}"))
        seen.setdefault(source.id, origin)
    if problems:
        raise ConfigError(problems)
    watch_path = (path.parent / parsed.watchlist).resolve()
    watchlist = load_watchlist(watch_path)
    companies = {c.name for c in watchlist.company}
    regulators = {source.regulator for source, _ in sources}
    for index, route in enumerate(parsed.routes):
        unknown = [c for c in route.companies if c not in companies]
        unknown += [r for r in route.regulators if r not in regulators]
        if unknown:
            problems.append(ConfigProblem(
                str(path), f"routes[{index}]", _find_line(text, ["routes", index]),
                f"{', '.join(map(repr, unknown))}: no watched company or configured regulator "
                "has that name (names are as the watchlist and the sources spell them)"))
    if problems:
        raise ConfigError(problems)
    return Config(path=path, settings=parsed.settings,
                  sources=tuple(source for source, _ in sources), watchlist=watchlist,
                  notifications=Notifications(channels=parsed.channels, routes=parsed.routes),
                  read_from=(path.resolve(),
                             *((path.parent / name).resolve() for name in parsed.include),
                             watch_path))


def load_included(path: Path, where: str) -> tuple[Source, ...]:
    """The stanzas of one included file; its problems name it, their line, and the include."""
    try:
        text = _read(path, hint="")
        raw = _parse_toml(path, text)
    except ConfigError as error:
        raise ConfigError([ConfigProblem(p.file, p.key_path, p.line, f"{p.message} ({where})")
                           for p in error.problems]) from None
    try:
        return _checked(_IncludedFile, path, text, raw).sources
    except ConfigError as error:
        raise ConfigError([ConfigProblem(p.file, p.key_path, p.line, f"{p.message} ({where})")
                           for p in error.problems]) from None


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate a watchlist file on its own (used by `regmon match` too)."""
    text = _read(path)
    raw = _parse_toml(path, text)
    return _checked(Watchlist, path, text, raw)


def _read(path: Path, hint: str = " (use --config or REGMON_CONFIG)") -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), "", None, f"file not found{hint}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(str(path), "", None, f"cannot read: {exc}")]) from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError([ConfigProblem(str(path), "", line, f"not valid TOML: {message}")]) from None


def _checked(kind: type[T], path: Path, text: str, raw: dict[str, Any]) -> T:
    """`raw`, read from `path`, validated as a `kind`; ConfigError names every problem."""
    from pydantic import ValidationError

    try:
        return validated(kind, raw)
    except ValidationError as exc:
        raise ConfigError(_problems(path, text, exc)) from None


def _problems(path: Path, text: str, exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part not in ("html", "json", "feed")]
        if loc[:2] == ["context", "languages"]:  # [context.fr] is written without "languages"
            loc = ["context", *loc[2:]]
        key_path = _key_path(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = "unknown key (is it misspelt?)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            message = "kind must be one of 'html', 'json' or 'feed'"
            loc = [*loc, "kind"]
            key_path = _key_path(loc)
        problems.append(ConfigProblem(str(path), key_path, _find_line(text, loc), message))
    return problems


def _key_path(loc: list[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")


def _find_line(text: str, loc: list[int | str]) -> int | None:
    """Best-effort line of a key path in TOML text: tomllib keeps no positions."""
    lines = text.splitlines()
    headers = []
    for number, line in enumerate(lines, start=1):
        found = _HEADER.match(line)
        if found:
            headers.append((number, found.group(2).replace('"', ""), found.group(1) == "[["))
    start, end, table = 1, len(lines) + 1, ""
    index = 0
    found_line: int | None = None
    while index < len(loc):
        part = loc[index]
        if not isinstance(part, str):
            index += 1
            continue
        name = f"{table}.{part}" if table else part
        nxt = loc[index + 1] if index + 1 < len(loc) else None
        if isinstance(nxt, int):
            matches = [h for h in headers if h[1] == name and h[2] and start <= h[0] < end]
            if nxt < len(matches):
                start = matches[nxt][0]
                later = [h[0] for h in headers
                         if h[0] > start and (h[1] == name or not h[1].startswith(name + "."))]
                end = min(later, default=len(lines) + 1)
                table, found_line = name, start
                index += 2
                continue
            return _key_in(lines, part, start, end) or found_line
        sub = [h for h in headers if h[1] == name and not h[2] and start <= h[0] < end]
        if sub and nxt is not None:
            start = sub[0][0]
            later = [h[0] for h in headers if h[0] > start and not h[1].startswith(name + ".")]
            end = min(later, default=len(lines) + 1)
            table, found_line = name, start
            index += 1
            continue
        return _key_in(lines, part, start, end) or (sub[0][0] if sub else found_line)
    return found_line


def _key_in(lines: list[str], key: str, start: int, end: int) -> int | None:
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number in range(start, min(end, len(lines) + 1)):
        if number - 1 < len(lines):
            line = lines[number - 1]
            if number > start and _HEADER.match(line):
                break
            if pattern.match(line):
                return number
    return None


def as_json(value: object) -> str:
    """A settings object as compact JSON, for fingerprints of what it was built from: the
    same text pydantic's `model_dump_json` gave, so stored fingerprints stay valid."""
    return json.dumps(dataclasses.asdict(value), ensure_ascii=False,  # type: ignore[call-overload]
                      separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, StatementType):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")
