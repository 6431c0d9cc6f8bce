"""Reads `sources.toml` (and the watchlist file it names) into validated, frozen settings.

Every problem in a file is reported at once, each with the file, the key path, the line where
it can be found and what is wrong. Unknown keys are errors: a typo must never be ignored.
Secrets (webhook URLs, signing keys) are not configuration: they come from the environment.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError, ConfigProblem
from monitor.model import StatementType

MIN_INTERVAL_MINUTES = 5
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # an ISO 639 code: "en", "fr", "el"
LANGUAGE_NAMES = {"en": "English", "fr": "French", "it": "Italian", "de": "German",
                  "nl": "Dutch", "es": "Spanish", "el": "Greek", "sv": "Swedish",
                  "pt": "Portuguese", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
                  "pl": "Polish", "cy": "Welsh", "mi": "Māori"}
JURISDICTION = re.compile(r"^[a-z]{2}(-[a-z0-9]{1,3})?$")  # "ca", "ca-bc", "eu", "de-bw"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


DEFAULT_BASE_URL = "http://127.0.0.1:8421/"


class Settings(_Strict):
    """How regmon behaves toward the sites and where it publishes."""

    min_delay_seconds: float = Field(2.0, ge=0, description="pause between requests to one host")
    timeout_seconds: float = Field(20.0, gt=0, description="connect and read timeout")
    deadline_seconds: float = Field(60.0, gt=0, description="overall limit for one request")
    max_body_bytes: int = Field(10_000_000, gt=0, description="limit on a decompressed body")
    max_articles_per_poll: int = Field(40, ge=0, description="article pages read per source poll")
    retries: int = Field(2, ge=0, le=5, description="retries of a failed request within a poll")
    retry_base_seconds: float = Field(2.0, ge=0, description="first retry pause, then doubled")
    failing_after: int = Field(3, ge=1, description="consecutive failed polls before 'failing'")
    degraded_share: float = Field(
        0.3, ge=0, le=1, description="a listing this much smaller than usual is 'degraded'")
    feeds_base_url: str | None = Field(
        None, description="the public URL the feeds are served from (links in feeds, OPML and "
        "messages); unset, the feed server's own address")
    serve_idle_seconds: float = Field(
        30.0, gt=0, description="the feed server closes a connection idle this long")
    serve_host_names: tuple[str, ...] = Field(
        (), description="Host names the feed server answers to besides IP addresses, "
        "localhost and feeds_base_url's host (a reverse proxy's public name)")
    feed_size: int = Field(100, ge=1, description="entries per feed")
    topic_feed: bool = Field(
        False, description="also write topic.atom: statements about facial recognition that "
        "name no watched company")
    digest_threshold: int = Field(5, ge=1, description="more new statements: one Slack digest")
    storm_min: int = Field(5, ge=1, description="new items in one poll before a storm is suspected")
    storm_share: float = Field(
        0.5, gt=0, le=1, description="share of a listing new at once that holds notifications")
    robots_txt: bool = Field(True, description="read and obey each host's robots.txt")
    allow_unsigned_webhook: bool = Field(
        False, description="send the generic webhook without REGMON_WEBHOOK_SECRET")
    startup_spread_seconds: float = Field(
        60.0, ge=0, description="the daemon's first polls are spread over this long")
    delivery_interval_seconds: float = Field(
        60.0, gt=0, description="how often the daemon drains the outbox")

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


@functools.lru_cache(maxsize=1024)
def _selector_ok(selector: str) -> bool:
    """Whether lexbor can parse `selector` (asked once per distinct selector)."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except Exception:  # selectolax raises plain exceptions for bad selectors
        return False
    return True


class _SourceBase(_Strict):
    id: str
    regulator: str
    name: str = ""
    allow_http: bool = False
    url: str
    timezone: str = "UTC"
    interval_minutes: float = 30
    allowed_hosts: tuple[str, ...] = ()
    host_aliases: dict[str, str] = {}
    url_prefixes: tuple[str, ...] = ()
    pages: int = Field(1, ge=1, le=50)
    page_param: str | None = None
    page_start: int = 1
    page_step: int = 1
    date_format: str | None = None
    date_regex: str | None = None
    date_from_url: str | None = None
    fetch_articles: bool = True
    article_body: tuple[str, ...] = ()
    article_strip: tuple[str, ...] = ()
    article_date: str | None = None
    attachments: tuple[str, ...] = ()
    fetch_attachments: bool = True
    headers: dict[str, str] = {}
    min_items: int = Field(1, ge=0, description="fewer items than this on a page is a health alarm")
    enabled: bool = True
    languages: tuple[str, ...] = ("en",)  # the first is a statement's unless its page says
    jurisdiction: str | None = None
    unverified: str | None = None  # why the stanza is not yet trusted (markup never seen)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one language, like [\"en\"]")
        for code in value:
            if not LANGUAGE.match(code):
                raise ValueError(f"{code!r} is not a language code (ISO 639, like 'fr' or 'el')")
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str | None) -> str | None:
        if value is not None and not JURISDICTION.match(value):
            raise ValueError(f"{value!r} is not a jurisdiction code: a country ('nz', 'eu') or a "
                             "country and a province or state ('ca-bc', 'de-bw'), lower case")
        return value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lower-case letters, digits and hyphens, like 'ico-news'")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("date_regex", "date_from_url")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _check_regex(value)

    @field_validator("article_date")
    @classmethod
    def _date_selector(cls, value: str | None) -> str | None:
        return _check_selector(value)

    @field_validator("article_body", "article_strip", "attachments")
    @classmethod
    def _selectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for selector in value:
            _check_selector(selector)
        return value

    @field_validator("interval_minutes")
    @classmethod
    def _interval(cls, value: float, info: ValidationInfo) -> float:
        # The floor protects the sites we read from a typo; a site on this very machine (a
        # test stand-in, a benchmark) may be asked as often as one likes.
        host = urlsplit(str(info.data.get("url", ""))).hostname or ""
        loopback = host == "localhost" or host.startswith("127.") or host == "::1"
        if value <= 0 or (value < MIN_INTERVAL_MINUTES and not loopback):
            raise ValueError(
                f"{value:g} minutes is too often for a government site; the floor is "
                f"{MIN_INTERVAL_MINUTES}"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        if parts.scheme == "http" and not info.data.get("allow_http"):
            raise ValueError(f"{value!r} uses plain http; set allow_http = true to permit it")
        return value

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts this source may fetch from and link to: its own, plus any allowed explicitly."""
        own = urlsplit(self.url).hostname or ""
        return (own, *self.allowed_hosts, *self.host_aliases.keys())


class HtmlSource(_SourceBase):
    """A server-rendered listing page read with CSS selectors."""

    kind: Literal["html"]
    item: str
    title: str
    link: str | None = None
    link_attr: str = "href"
    summary: str | None = None
    date: str | None = None
    date_attr: str | None = None
    tags: str | None = None
    unwrap_param: str | None = None

    @field_validator("item", "title", "link", "summary", "date", "tags")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        return _check_selector(value)


class JsonSource(_SourceBase):
    """A JSON API read with dotted field paths (`results`, `pagination.totalPages`)."""

    kind: Literal["json"]
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, Any] = {}
    items_path: str
    title_path: str = "title"
    link_path: str = "url"
    summary_path: str | None = None
    date_path: str | None = None
    total_pages_path: str | None = None
    tags_path: str | None = None  # a row's labels (its type: "Monetary penalties")
    tags_regex: str | None = None  # the part of that text to keep: the first group
    order_param: str | None = None  # the body key that orders the results ("order")
    backfill_orders: tuple[str, ...] = ()  # a backfill walks the archive in each of these

    @field_validator("tags_regex")
    @classmethod
    def _tags_regex(cls, value: str | None) -> str | None:
        return _check_regex(value)


class FeedSource(_SourceBase):
    """An RSS 2.0 or Atom feed, optionally with a listing page to read when the feed fails."""

    kind: Literal["feed"]
    fallback: Annotated[HtmlSource | JsonSource, Field(discriminator="kind")] | None = None


Source = HtmlSource | JsonSource | FeedSource
AnySource = Annotated[Source, Field(discriminator="kind")]


class LanguageWords(_Strict):
    """One language's words that show a passage is about facial recognition."""

    near: tuple[str, ...] = ()  # any of these near an ambiguous alias lets it count
    weak: tuple[str, ...] = ()  # generic words (camera, photos): they count near an ambiguous
    # alias only in a statement that mentions facial recognition or biometrics somewhere
    topic: tuple[str, ...] = ()  # these anywhere make the statement about facial recognition


class ContextRules(LanguageWords):
    """Words that show a passage is about facial recognition: its own lists are English and
    count in every statement; `[context.<language>]` tables count in that language's."""

    window_words: int = Field(25, ge=1, le=200)
    languages: dict[str, LanguageWords] = {}

    @model_validator(mode="before")
    @classmethod
    def _language_tables(cls, data: Any) -> Any:
        """`[context.fr]` in the file is `languages["fr"]` here."""
        if not isinstance(data, dict):
            return data
        tables = {k: v for k, v in data.items()
                  if k not in cls.model_fields and LANGUAGE.match(k) and isinstance(v, dict)}
        if not tables:
            return data
        return {**{k: v for k, v in data.items() if k not in tables}, "languages": tables}


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
    window_words: int | None = Field(None, ge=1, le=200, description="overrides [context]")
    note: str = ""

    @model_validator(mode="after")
    def _has_alias(self) -> Company:
        names = set(self.aliases) | set(self.needs_context)
        if not names:
            raise ValueError("needs at least one entry in aliases or needs_context")
        unknown = [c for c in self.case_sensitive if c not in names]
        if unknown:
            raise ValueError(f"case_sensitive names {unknown} that are not aliases")
        return self


class Watchlist(_Strict):
    """The companies to watch and the context rules shared by all of them."""

    context: ContextRules = ContextRules()
    company: tuple[Company, ...]

    @model_validator(mode="after")
    def _unique(self) -> Watchlist:
        seen: set[str] = set()
        for company in self.company:
            if company.name in seen:
                raise ValueError(f"company {company.name!r} is listed twice")
            seen.add(company.name)
        return self


CHANNEL = re.compile(r"^[a-z][a-z0-9-]*$")
BUILT_IN_CHANNELS = ("slack", "webhook")  # configured by their own variables, as before routes
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ChannelConfig(_Strict):
    """A named place notifications go. Its URL (with any password) is a secret: it comes from
    REGMON_CHANNEL_<NAME>_URL or the credential channel-<name>-url, never from this file."""

    kind: Literal["slack", "webhook", "email", "teams", "discord", "ntfy", "apprise"]
    to: tuple[str, ...] = ()  # email: the recipients
    sender: str | None = None  # email: the From address
    subject_prefix: str = "[regmon]"  # email

    @model_validator(mode="after")
    def _email_addresses(self) -> ChannelConfig:
        if self.kind == "email" and (not self.to or not self.sender):
            raise ValueError("an email channel needs `to` (a list of addresses) and `sender`")
        if self.kind != "email" and (self.to or self.sender):
            raise ValueError("`to` and `sender` are for email channels only")
        for address in (*self.to, *([self.sender] if self.sender else [])):
            if "@" not in address or any(c in address for c in "\r\n,;"):
                raise ValueError(f"{address!r} is not one email address")
        return self


class Route(_Strict):
    """Which statements go to a channel, and when: every filter given must hold (a filter
    lists alternatives); `instant`, or a `daily` digest at `at` in `timezone`, or a `weekly`
    one on `day`."""

    channel: str
    companies: tuple[str, ...] = ()
    regulators: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()  # "ca" takes in "ca-bc"
    types: tuple[StatementType, ...] = ()
    languages: tuple[str, ...] = ()
    mode: Literal["instant", "daily", "weekly"] = "instant"
    at: str = "08:00"
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday"] = "monday"
    timezone: str = "UTC"

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time of day like '08:00'")
        return value

    @field_validator("timezone")
    @classmethod
    def _route_tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("jurisdictions")
    @classmethod
    def _places(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not JURISDICTION.match(code):
                raise ValueError(f"{code!r} is not a jurisdiction code like 'gb' or 'ca-bc'")
        return value

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


class Notifications(_Strict):
    """Named channels and the routes to them. Without routes, every configured channel gets
    every statement at once (Slack and the webhook, as before routes existed)."""

    channels: dict[str, ChannelConfig] = {}
    routes: tuple[Route, ...] = ()


class _FileConfig(_Strict):
    watchlist: str = "watchlist.toml"
    include: tuple[str, ...] = ()  # files of [[sources]] stanzas (the regulators/ catalogue)
    settings: Settings = Settings()
    sources: tuple[AnySource, ...] = ()
    channels: dict[str, ChannelConfig] = {}
    routes: tuple[Route, ...] = ()

    @model_validator(mode="after")
    def _routes_reach_channels(self) -> _FileConfig:
        for name in self.channels:
            if not CHANNEL.match(name) or name in (*BUILT_IN_CHANNELS, "operator"):
                raise ValueError(f"channel name {name!r} must be lower-case letters, digits and "
                                 "hyphens, and not slack, webhook or operator (those are built in)")
        known = (*self.channels, *BUILT_IN_CHANNELS)
        for route in self.routes:
            if route.channel not in known:
                raise ValueError(f"a route names the channel {route.channel!r}, which is not "
                                 f"defined (channels: {', '.join(known)})")
        return self


class _IncludedFile(_Strict):
    """A file `include` names: [[sources]] stanzas and nothing else."""

    sources: tuple[AnySource, ...]


class Config(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(frozen=True)

    path: Path
    settings: Settings
    sources: tuple[Source, ...]
    watchlist: Watchlist
    notifications: Notifications = Notifications()

    def source(self, source_id: str) -> Source:
        """The source with this id; KeyError when there is none."""
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def load_config(path: Path) -> Config:
    """Read and validate `path`, the files it includes and the watchlist it names. Raises
    ConfigError listing every problem, each with file, key path and line."""
    text = _read(path)
    raw = _parse_toml(path, text)
    try:
        parsed = _FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(path, text, exc)) from None
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
                  notifications=Notifications(channels=parsed.channels, routes=parsed.routes))


def load_included(path: Path, where: str) -> tuple[Source, ...]:
    """The stanzas of one included file; its problems name it, their line, and the include."""
    try:
        text = _read(path, hint="")
        raw = _parse_toml(path, text)
    except ConfigError as error:
        raise ConfigError([ConfigProblem(p.file, p.key_path, p.line, f"{p.message} ({where})")
                           for p in error.problems]) from None
    try:
        return _IncludedFile.model_validate(raw).sources
    except ValidationError as exc:
        raise ConfigError([ConfigProblem(p.file, p.key_path, p.line, f"{p.message} ({where})")
                           for p in _problems(path, text, exc)]) from None


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate a watchlist file on its own (used by `regmon match` too)."""
    text = _read(path)
    raw = _parse_toml(path, text)
    try:
        return Watchlist.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(path, text, exc)) from None


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


def _problems(path: Path, text: str, exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part not in ("html", "json", "feed")]
        if loc[:2] == ["context", "languages"]:  # [context.fr] is written without "languages"
            loc = ["context", *loc[2:]]
        key_path = _key_path(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
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
