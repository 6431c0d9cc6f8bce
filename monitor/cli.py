"""The `regmon` command line. Thin: it parses options, wires a Monitor, and turns outcomes
into output and exit statuses (0 fine, 1 something needs a human, 2 bad configuration or
usage, 75 another regmon holds the lock)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import __version__
from monitor.clock import SystemClock
from monitor.config import Config, HtmlSource, load_watchlist
from monitor.config_cache import load_config_cached
from monitor.errors import (
    ConfigError,
    ConfigProblem,
    FetchError,
    ListingEmpty,
    LockHeld,
    RegmonError,
    UsageError,
)
from monitor.lock import StateLock
from monitor.model import AlertKind, Health, ListedItem, OutboxState, SourceReport
from monitor.publish.secrets import (
    Secrets,
    channel_secret_names,
    install_redaction,
    load_secrets,
)
from monitor.text import one_line, printable

if TYPE_CHECKING:
    from monitor.store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75
log = logging.getLogger("monitor")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _setup_logging(args.verbose - args.quiet, args.command)
    try:
        result: int = args.handler(args)
        sys.stdout.flush()
        return result
    except BrokenPipeError:
        # `regmon export | head`: the reader has what it wanted; end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except UsageError as error:
        print(f"regmon: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"regmon: the configuration has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except LockHeld as error:
        print(f"regmon: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except RegmonError as error:
        print(f"regmon: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # the environment: a path that cannot be written, a full disk
        where = f" {error.filename}" if error.filename else ""
        print(f"regmon: cannot use{where}: {error.strerror or error}; check that this user may "
              "write there and that the disk has room", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regmon",
        description="Watch privacy regulators for statements about facial-recognition companies.")
    parser.add_argument("--version", action="version", version=f"regmon {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None,
                        help="sources.toml to read (default: $REGMON_CONFIG or ./sources.toml)")
    common.add_argument("--state-dir", type=Path, default=None,
                        help="where the database and feeds live (default: $REGMON_STATE_DIR, "
                        "else systemd's $STATE_DIRECTORY, else the user data directory)")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv)")
    common.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    once = commands.add_parser("once", parents=[common], help="poll every source once, then exit")
    once.add_argument("--source", action="append", metavar="ID", help="only this source")
    once.set_defaults(handler=cmd_once)

    check = commands.add_parser("check", parents=[common],
                                help="validate the configuration and show what each source yields")
    check.add_argument("--source", action="append", metavar="ID", help="only this source")
    check.add_argument("--offline", action="store_true",
                       help="only validate the configuration; fetch nothing")
    check.add_argument("--live", action="append", metavar="ID",
                       help="verify this source's stanza against its site: what it read, which "
                       "selectors matched, and whether it is good enough to enable")
    check.add_argument("--json", action="store_true", help="with --live: print JSON")
    check.set_defaults(handler=cmd_check)

    run = commands.add_parser("run", parents=[common],
                              help="the daemon: poll every source on its schedule")
    run.add_argument("--serve", action="store_true", help="also serve the feeds over HTTP")
    _listen_options(run)
    run.set_defaults(handler=cmd_run)

    serve = commands.add_parser("serve", parents=[common],
                                help="serve the feeds, /healthz and /metrics over HTTP")
    _listen_options(serve)
    serve.set_defaults(handler=cmd_serve)

    status = commands.add_parser("status", parents=[common],
                                 help="each source's health, last success, last error, next poll")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(handler=cmd_status)

    deliveries = commands.add_parser("deliveries", parents=[common],
                                     help="list pending, held, paused and dead notifications")
    deliveries.add_argument("action", nargs="?", choices=["list", "retry"], default="list",
                            help="retry: unpause channels and re-queue dead and held rows")
    deliveries.set_defaults(handler=cmd_deliveries)

    notify_test = commands.add_parser("notify-test", parents=[common],
                                      help="send a test message to every configured channel")
    notify_test.set_defaults(handler=cmd_notify_test)

    backfill = commands.add_parser("backfill", parents=[common],
                                   help="walk the sources' archives to fill in history, silently")
    backfill.add_argument("--since", type=_date, help="stop at statements older than this day")
    backfill.add_argument("--source", action="append", metavar="ID", help="only this source")
    backfill.add_argument("--max-pages", type=int, help="read at most this many pages per "
                          "source this time (run again to resume)")
    backfill.set_defaults(handler=cmd_backfill)

    show = commands.add_parser("show", parents=[common],
                               help="everything kept about one statement (its evidence)")
    show.add_argument("id", help="the statement's number (as feeds and `regmon export` show "
                      "it) or its URL")
    show.set_defaults(handler=cmd_show)

    export = commands.add_parser("export", parents=[common],
                                 help="the matched statements, for a spreadsheet or a script")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--company", help="only statements naming this company")
    export.add_argument("--since", type=_date, help="only statements published on or after "
                        "this day (YYYY-MM-DD)")
    export.set_defaults(handler=cmd_export)

    feed = commands.add_parser("feed", parents=[common], help="rebuild the feeds from the store")
    feed.set_defaults(handler=cmd_feed)

    match = commands.add_parser("match", parents=[common],
                                help="run the watchlist over a text or saved HTML page")
    match.add_argument("file", nargs="?", help="a text, HTML or PDF file, or - for standard "
                       "input")
    match.add_argument("--history", action="store_true",
                       help="instead, run the watchlist (or --watchlist, an edited copy) over "
                       "the stored statements and say what it would add and remove")
    match.add_argument("--source", metavar="ID", help="read saved HTML with this source's "
                       "article_body and article_strip selectors, as a poll would")
    match.add_argument("--json", action="store_true", help="print one JSON object")
    match.add_argument("--language", metavar="CODE", help="the text's language (default: the "
                       "page's lang attribute, else the source's first language, else en)")
    match.add_argument("--watchlist", type=Path, default=None,
                       help="a watchlist file (default: the one sources.toml names)")
    match.set_defaults(handler=cmd_match)
    return parser


def _listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8421, help="port to listen on (8421)")


# -- paths and logging -------------------------------------------------------------------------

def config_path(args: argparse.Namespace) -> Path:
    """--config, else $REGMON_CONFIG, else ./sources.toml."""
    return Path(args.config or os.environ.get("REGMON_CONFIG") or "sources.toml")


def configuration(args: argparse.Namespace, *, makes_state: bool = False) -> Config:
    """The validated configuration the command names, from the state directory's cache when
    its files are unchanged (most runs then never import the validator). A command that
    `makes_state` (it polls) may make the state directory to keep the cache in."""
    return load_config_cached(config_path(args), state_dir(args), makes_state=makes_state)


def state_dir(args: argparse.Namespace) -> Path:
    """--state-dir, else $REGMON_STATE_DIR, else $STATE_DIRECTORY (systemd), else the
    platform's user data directory."""
    if args.state_dir:
        return Path(args.state_dir)
    for name in ("REGMON_STATE_DIR", "STATE_DIRECTORY"):
        value = os.environ.get(name)
        if value:
            return Path(value.split(":")[0])
    from platformdirs import user_data_dir

    return Path(user_data_dir("regmon", appauthor=False))


def _setup_logging(verbosity: int, command: str) -> None:
    quiet_by_default = command in ("once", "feed", "match", "check")
    level = {-2: logging.CRITICAL, -1: logging.ERROR,
             0: logging.WARNING if quiet_by_default else logging.INFO,
             1: logging.INFO, 2: logging.DEBUG}.get(max(-2, min(2, verbosity)), logging.DEBUG)
    if verbosity == 1 and not quiet_by_default:
        level = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    journald = bool(os.environ.get("JOURNAL_STREAM"))
    if command in ("run", "serve"):
        handler.setFormatter(KeyValueFormatter(timestamps=not journald))
    else:
        handler.setFormatter(logging.Formatter("regmon %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and a webhook URL is a secret.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    for noisy in ("httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING) if verbosity < 2 else level)
    # `once` prints its own one-line summary of what an alert says; the log repeats it at -v.
    logging.getLogger("monitor.alert").setLevel(
        logging.ERROR if quiet_by_default and verbosity <= 0 else logging.NOTSET)


# -- commands ----------------------------------------------------------------------------------

class KeyValueFormatter(logging.Formatter):
    """One line per event, `key=value` fields (logfmt), no timestamp of its own under journald
    (which adds one): `level=info logger=monitor.schedule msg=poll source=ico-news items=25`."""

    def __init__(self, timestamps: bool) -> None:
        super().__init__()
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {}
        if self.timestamps:
            fields["ts"] = datetime.fromtimestamp(record.created).astimezone().isoformat(
                timespec="milliseconds")
        fields["level"] = record.levelname.lower()
        fields["logger"] = record.name
        fields["msg"] = record.getMessage()
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={_logfmt(value)}" for key, value in fields.items())


def _logfmt(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text and not any(c in text for c in ' ="\n\t'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon. Holds the state directory's lock for its whole life."""
    from monitor.schedule import Daemon
    from monitor.serve import FeedServer

    config = configuration(args, makes_state=True)  # a bad file: a usage error, before all
    secrets = _secrets(config)
    directory = state_dir(args)
    with StateLock(directory):
        # The port is taken before the first poll: a busy one is a usage error at start (exit
        # 2, which the units do not restart on), never a crash in the middle of a poll.
        server = FeedServer(config, directory, SystemClock(), args.host, args.port) \
            if args.serve else None

        def start_server(monitor: object) -> None:
            if server is not None:
                server.start()

        daemon = Daemon(config, directory, SystemClock(), secrets, on_started=start_server)
        try:
            code = daemon.run()
        finally:
            if server is not None:
                server.stop()
    if daemon.abandoned:
        # A poll thread is stuck in a slow read. Everything it committed is durable (SQLite,
        # synchronous=FULL); waiting for it would break the promise to stop within seconds.
        logging.shutdown()
        os._exit(code)
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the feeds, /healthz and /metrics until interrupted."""
    import signal

    from monitor.serve import FeedServer

    config = configuration(args)
    server = FeedServer(config, state_dir(args), SystemClock(), args.host, args.port)

    def stop(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def cmd_once(args: argparse.Namespace) -> int:
    """One poll of every source, then deliver what is due. Silent on success (on a terminal,
    one summary line); one line per thing that needs a human otherwise."""
    from monitor.pipeline import Monitor

    config = configuration(args, makes_state=True)
    _unknown_sources(config, args.source)
    secrets = _secrets(config)
    directory = state_dir(args)
    with StateLock(directory):
        monitor = Monitor(config, directory, SystemClock(), secrets=secrets)
        try:
            run = monitor.run_once(args.source)
            raised = list(monitor.notifier.raised)
            paused = monitor.notifier.paused()
            unreachable = monitor.notifier.unreachable()
            hints = {name: monitor.notifier.secret_hint(name) for name in unreachable}
        finally:
            monitor.close()
    failed = [r for r in run.sources if not r.ok and not r.skipped]
    for report in failed:
        state = f"[{report.health}] " if report.health != Health.OK else ""
        print(f"regmon: {report.source_id}: {state}{one_line(report.error or '')}",
              file=sys.stderr)
    for report in run.sources:
        if report.recovered_from:  # a transition is news, once
            print(f"regmon: {report.source_id}: recovered (was {report.recovered_from})",
                  file=sys.stderr)
        if report.stale:
            print(f"regmon: {report.source_id}: [stale] {one_line(report.stale)}", file=sys.stderr)
        elif report.ok and report.unchanged:
            log.info("%s: unchanged since the last poll", report.source_id)
        elif report.ok:
            log.info("%s: %d items, %d new, %d new matches%s", report.source_id,
                     report.items_seen, report.new_items, report.new_matches,
                     " (baseline: nothing announced)" if report.baseline else "")
    needs_human = [m for kind, m in raised if kind in (AlertKind.STORM, AlertKind.DELIVERY)]
    for message in needs_human:
        print(f"regmon: {one_line(message)}", file=sys.stderr)
    for channel, reason in paused.items():  # a human must act: said every run until then
        if channel not in run.delivery.paused_now:  # (this run's pause was said above)
            print(f"regmon: notifications to {channel} are paused ({one_line(reason)}); fix it, "
                  "then run `regmon deliveries retry`", file=sys.stderr)
    for channel, waiting in unreachable.items():
        print(f"regmon: {waiting} notification(s) wait for the channel {channel}, whose URL is "
              f"not set: set {hints[channel]}", file=sys.stderr)
    if sys.stdout.isatty():
        print(_summary(run.sources))
    stale = [r for r in run.sources if r.stale]
    return EXIT_FAILED if failed or needs_human or paused or stale or unreachable else EXIT_OK


def _summary(reports: Sequence[SourceReport]) -> str:
    """One line for a person at a terminal: "3 new statements, 1 matched: Bunnings ..."."""
    new = sum(r.new_items for r in reports if not r.baseline)
    matched = [t for r in reports if not r.baseline for t in r.matched_titles]
    baselines = sum(1 for r in reports if r.baseline)
    line = f"{new} new statement{'s' if new != 1 else ''}, {len(matched)} matched"
    if matched:
        line += ": " + "; ".join(one_line(t) for t in matched[:3]) + ("; …" if len(matched) > 3
                                                                      else "")
    if baselines:
        line += f" ({baselines} source(s) polled for the first time: history, not announced)"
    return line


def _secrets(config: Config) -> Secrets:
    """Webhook secrets from the environment or systemd credentials, checked, and kept out of
    every log line from now on. A generic webhook without a signing key is refused unless the
    configuration says `allow_unsigned_webhook = true`: receivers cannot tell it from a forgery."""
    secrets = load_secrets(channels=config.notifications.channels)
    problems = secrets.problems()
    webhooks = ["REGMON_WEBHOOK_URL"] if secrets.webhook_url else []
    webhooks += [channel_secret_names(name)[0] for name, channel in
                 config.notifications.channels.items()
                 if channel.kind == "webhook" and name in secrets.channels]
    if webhooks and not secrets.webhook_secret and not config.settings.allow_unsigned_webhook:
        problems.append(f"{' and '.join(webhooks)} {'is' if len(webhooks) == 1 else 'are'} set "
                        "but REGMON_WEBHOOK_SECRET is not, so the webhook would go out unsigned: "
                        "set the secret (whsec_<base64>), or allow_unsigned_webhook = true in "
                        "[settings] to send it unsigned on purpose")
    if problems:
        raise ConfigError([ConfigProblem("environment", "", None, p) for p in problems])
    install_redaction(secrets)
    return secrets


def cmd_deliveries(args: argparse.Namespace) -> int:
    """List the notifications not yet delivered, or re-queue them."""
    store = _existing_store(args)
    try:
        if args.action == "retry":
            count = store.requeue()
            print(f"re-queued {count} notification(s); paused channels resumed. They are sent "
                  "by the next poll (or the daemon's next delivery run).")
            return EXIT_OK
        rows = store.deliveries((OutboxState.PENDING, OutboxState.HELD, OutboxState.DEAD))
        paused = {c: store.channel_pause(c) for c in {r.channel for r in rows}}
    finally:
        store.close()
    if not rows:
        print("nothing waiting: every notification was delivered")
        return EXIT_OK
    _table(("id", "channel", "state", "tries", "next try", "statement", "last error"),
           [(str(r.id), r.channel, "paused" if r.state == OutboxState.PENDING and paused[r.channel]
             else str(r.state), str(r.attempts), _ago(r.next_attempt_at)
             if r.state == OutboxState.PENDING else "-", r.title, r.last_error or "-")
            for r in rows])
    for channel, reason in sorted(paused.items()):
        if reason:
            print(f"\n{channel} is paused: {one_line(reason)}")
    return EXIT_OK


def cmd_notify_test(args: argparse.Namespace) -> int:
    """Send a test message to each configured channel and say plainly what happened."""
    from monitor.publish.outbox import Notifier
    from monitor.store import Store

    config = configuration(args)
    secrets = _secrets(config)
    store = Store(state_dir(args) / "regmon.sqlite3", SystemClock())
    notifier = Notifier(store, SystemClock(), config.settings, secrets, config.notifications)
    try:
        results = notifier.send_test()
    finally:
        notifier.close()
        store.close()
    if not results:
        print("no channel is configured: set REGMON_SLACK_WEBHOOK_URL, REGMON_WEBHOOK_URL "
              "(with REGMON_WEBHOOK_SECRET), REGMON_OPERATOR_WEBHOOK_URL, or the URL of a "
              "channel named in sources.toml (REGMON_CHANNEL_<NAME>_URL)")
        return EXIT_USAGE
    for result in results:
        signing = ""
        if result.channel == "webhook":
            signing = (" (signed with REGMON_WEBHOOK_SECRET)" if secrets.webhook_secret else
                       " (UNSIGNED: allow_unsigned_webhook = true)")
        print(f"{result.channel}: {'ok' if result.ok else 'FAILED'}: {one_line(result.words)}"
              f"{signing}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def cmd_backfill(args: argparse.Namespace) -> int:
    """Fill in each source's history from its archive; nothing found is notified."""
    from monitor.pipeline import BackfillProgress, Monitor

    config = configuration(args, makes_state=True)
    _unknown_sources(config, args.source)
    directory = state_dir(args)
    terminal = sys.stderr.isatty()
    kept = {"pages": 0, "statements": 0}

    walked: dict[str, BackfillProgress] = {}

    def progress(where: BackfillProgress) -> None:  # called from each host's walk
        walked[where.source_id] = where
        kept["pages"] = sum(w.pages for w in walked.values())
        kept["statements"] = sum(w.recorded for w in walked.values())
        if terminal:  # one updating line; elsewhere (a log) a line per archive page
            print(f"\r\x1b[K{one_line(where.describe())}", end="", file=sys.stderr, flush=True)
        elif not where.pages_read and not where.pages_due:
            print(one_line(where.describe()), file=sys.stderr, flush=True)

    status = EXIT_OK
    sources = [s for s in config.sources if not args.source or s.id in args.source]
    with StateLock(directory):
        monitor = Monitor(config, directory, SystemClock())
        try:
            reports = monitor.backfill_all(sources, since=args.since, max_pages=args.max_pages,
                                           progress=progress)
            if terminal:
                print(file=sys.stderr)
            for report in reports:
                if report.error:
                    status = EXIT_FAILED
                    print(f"regmon: {report.source_id}: backfill stopped at "
                          f"{one_line(report.error)}; run it again to resume", file=sys.stderr)
                else:
                    print(f"{report.source_id}: {report.pages} page(s), {report.recorded} "
                          f"statement(s) recorded; {report.describe()}")
            monitor.publish_feeds()
        except KeyboardInterrupt:
            print(f"\nregmon: backfill interrupted; everything read so far is kept "
                  f"({kept['pages']} archive page(s), {kept['statements']} statement(s)); run "
                  "`regmon backfill` again to resume where it stopped", file=sys.stderr)
            return 130
        finally:
            monitor.close()
    return status


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2020-01-31") from None


EXPORT_FIELDS = ("id", "url", "title", "regulator", "source", "published", "timezone",
                 "first_seen", "updated", "companies", "snippets")


def cmd_export(args: argparse.Namespace) -> int:
    """Write the matched statements as CSV or JSON on standard output."""
    store = _existing_store(args)
    try:
        company = _company(args, store) if args.company else None
        items = store.matched_items(10_000_000, company=company)
    finally:
        store.close()
    rows = []
    for item in reversed(items):  # oldest first: a history reads forwards
        stated = item.stated
        if args.since and (stated or item.first_seen.date()) < args.since:
            continue
        rows.append({
            "id": item.id, "url": one_line(item.url), "title": one_line(item.title),
            "regulator": item.regulator, "source": item.source_id,
            "published": stated.isoformat() if stated else None,
            "timezone": item.timezone if item.stated else None,
            "first_seen": item.first_seen.isoformat(), "updated": item.updated.isoformat(),
            "companies": list(item.companies), "snippets": [one_line(s) for s in item.snippets]})
    if not rows and company:
        print(f"regmon: no stored statement names {company} yet", file=sys.stderr)
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return EXIT_OK
    writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "companies": "; ".join(row["companies"]),  # type: ignore[arg-type]
                         "snippets": " | ".join(row["snippets"])})  # type: ignore[arg-type]
    return EXIT_OK


def _company(args: argparse.Namespace, store: Store) -> str:
    """The canonical company `--company` names: its name, any alias or its feed's slug, in
    any case. A name nothing answers to is a usage error that lists the known ones."""
    from monitor.publish.feed import slug, slugs

    wanted = " ".join(args.company.split()).casefold()
    names: dict[str, str] = {}
    companies = store.feed_groups().companies
    for name, value in slugs(companies).items():
        names[name.casefold()] = names[value] = name
    try:
        for entry in configuration(args).watchlist.company:
            for alias in (entry.name, *entry.aliases, *entry.needs_context):
                names.setdefault(alias.casefold(), entry.name)
            names.setdefault(slug(entry.name), entry.name)
    except ConfigError:
        pass  # no configuration here: the names already stored still answer
    if wanted in names:
        return names[wanted]
    known = ", ".join(sorted({*names.values()})) or "none yet"
    raise UsageError(f"no watched company is called {args.company!r} (known: {known})")


def cmd_show(args: argparse.Namespace) -> int:
    """Print everything kept about one statement, found by its number or its URL."""
    store = _existing_store(args)
    try:
        item_id = _statement_id(args.id, store)
        found = store.evidence(item_id) if item_id is not None else None
        versions = store.versions(item_id) if item_id is not None else []
    finally:
        store.close()
    if found is None:
        print(f"regmon: no statement {args.id!r} is stored (give its number, as feeds and "
              "`regmon export` show it, or its URL)", file=sys.stderr)
        return EXIT_FAILED
    item = found.item
    stated = (f"{item.stated:%Y-%m-%d} ({found.timezone})" if item.stated
              else "not stated")
    lines = [
        f"#{item.id}  {item.title}",
        f"  regulator:      {item.regulator} (source {item.source_id})",
        f"  link:           {item.url}",
        f"  final URL:      {found.final_url or '-'}",
        f"  published:      {stated}   (as the regulator states it)",
        f"  first seen:     {item.first_seen:%Y-%m-%d %H:%M:%S} UTC"
        + ("" if item.is_new else "   (history: recorded by the first poll, not announced)"),
        f"  last modified:  {item.updated:%Y-%m-%d %H:%M:%S} UTC",
        "  page read:      " + (f"{found.body_fetched_at:%Y-%m-%d %H:%M:%S} UTC"
                                 if found.body_fetched_at else str(found.body_state))
        + (f"   (text found by {found.found_by})" if found.found_by else ""),
        f"  validators:     ETag {found.etag or '-'}; Last-Modified {found.last_modified or '-'}",
        f"  content hash:   sha256:{found.content_hash}" if found.content_hash
        else "  content hash:   -",
    ]
    if found.matches:
        lines.append("  matched:")
        for match in found.matches:
            lines.append(f"    + {match.company} ('{match.alias}' in the {match.field}): "
                         f"{match.rule}")
            lines.append(f"      “{match.snippet}”")
    for rejection in found.rejections:
        lines.append(f"    - {rejection.company} ('{rejection.alias}'): not counted, "
                     f"{rejection.reason}")
    if versions:
        lines.append("  versions:")
        for version in versions:
            digest = version.content_hash
            lines.append(f"    {version.seen_at:%Y-%m-%d %H:%M:%S} UTC  {version.title}"
                         + (f"  (sha256:{digest[:16]}…)" if digest else ""))
    for attachment in found.attachments:
        lines.append(f"  attached:       {attachment.url}   ({attachment.state}, "
                     f"{attachment.pages} page(s), sha256:{(attachment.content_hash or '-')[:16]}, "
                     f"ETag {attachment.validators.etag or '-'})")
    if found.tags:
        lines.append(f"  tags:           {', '.join(found.tags)}")
    if item.summary:
        lines += ["  summary:", f"    {item.summary}"]
    if found.body:
        lines += ["  text:", *(f"    {line}" for line in found.body.splitlines())]
    print("\n".join(printable(line) for line in lines))  # no terminal escapes from a site
    return EXIT_OK


def _statement_id(given: str, store: Store) -> int | None:
    """A statement's number from `regmon show`'s argument: the number itself, `#12`, or any
    URL of the statement (canonicalised as its identity is)."""
    from monitor.extract.common import canonical_url

    text = given.strip().removeprefix("#")
    if text.isascii() and text.isdigit():
        number = int(text)
        return number if 0 < number < 2**63 else None
    if text.startswith(("https://", "http://")):
        return store.statement_id(canonical_url(text))
    return None


def _existing_store(args: argparse.Namespace) -> Store:
    """The store of a read-only command, which must exist: a mistyped --state-dir is said,
    never answered with an empty database created on the spot."""
    from monitor.store import Store

    directory = state_dir(args)
    database = directory / "regmon.sqlite3"
    if not database.is_file() or database.stat().st_size == 0:
        raise UsageError(f"no regmon database in {directory}: is --state-dir (or "
                         "REGMON_STATE_DIR) right? `regmon once` creates it")
    return Store(database, SystemClock())


def cmd_feed(args: argparse.Namespace) -> int:
    """Rebuild the feeds from the store."""
    from monitor.pipeline import Monitor

    config = configuration(args)
    monitor = Monitor(config, state_dir(args), SystemClock())
    try:
        written = monitor.publish_feeds(force=True)
    finally:
        monitor.close()
    for path in written:
        log.info("wrote %s", path)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """A table of the sources' health (or JSON). Exit 1 unless every enabled source is ok:
    a source that has never been polled, has never worked, or went stale needs a look."""
    from monitor.status import source_status

    config = configuration(args)
    store = _existing_store(args)
    try:
        rows = [source_status(source, store, SystemClock().now()) for source in config.sources
                if source.enabled]
    finally:
        store.close()
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        _table(("source", "health", "since", "last success", "last error", "items", "next poll"),
               [(r.source_id, str(r.health), _ago(r.health_since), _ago(r.last_success),
                 r.last_error or "-", str(r.items_known), r.next_poll) for r in rows])
    return EXIT_OK if all(r.health == Health.OK for r in rows) else EXIT_FAILED


def _ago(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the configuration, then show per source what it yields right now."""
    from monitor.extract.html import selector_report
    from monitor.pipeline import Monitor, page_request

    config = configuration(args)
    _unknown_sources(config, [*(args.source or ()), *(args.live or ())])
    if args.live:
        return _check_live(config, args)
    print(f"{config.path}: valid; {len(config.sources)} sources, "
          f"{len(config.watchlist.company)} watched companies")
    for note in _stanza_notes(config):
        print(f"  {note}")
    for line in _route_lines(config):
        print(line)
    if args.offline:
        return EXIT_OK
    monitor = Monitor(config, state_dir(args), SystemClock())
    status = EXIT_OK
    rows: list[tuple[str, ...]] = []
    problems: list[str] = []
    try:
        for source in config.sources:
            if args.source and source.id not in args.source:
                continue
            for each in (source, getattr(source, "fallback", None)):
                if each is None:
                    continue
                try:
                    listing = monitor.read_listing(each, conditional=False)
                except (FetchError, ListingEmpty, RegmonError) as error:
                    status = EXIT_FAILED
                    rows.append((each.id, each.kind, "ERROR", "see below"))
                    note = f"{each.id}: {error}"
                    if isinstance(each, HtmlSource) and isinstance(error, ListingEmpty):
                        url, _ = page_request(each, 0)
                        response = monitor.fetcher.fetch(url, each)
                        missed = [k for k, v in selector_report(each, response.body).items()
                                  if v == 0]
                        note += f"; selectors that matched nothing: {', '.join(missed)}"
                    problems.append(note)
                    continue
                newest = sorted(listing.items, key=lambda i: str(i.published or ""),
                                reverse=True)[:3]
                rows.append((each.id, each.kind, str(len(listing.items)),
                             _when_what(newest[0]) if newest else "-"))
                rows.extend(("", "", "", _when_what(item)) for item in newest[1:])
                problems.extend(f"{each.id}: {w}" for w in listing.warnings)
    finally:
        monitor.close()
    _table(("source", "kind", "items", "newest"), rows)
    if problems:
        print("\nProblems:")
        for problem in problems:
            print(f"  {one_line(problem)}")
    return status


def _stanza_notes(config: Config) -> list[str]:
    """What `check` says of stanzas whatever the sites answer: unverified ones, and languages
    the watchlist has no context words for."""
    notes = [f"{s.id}: unverified ({s.unverified}); run `regmon check --live {s.id}` before "
             "trusting it" for s in config.sources if s.unverified]
    known = {"en", *config.watchlist.context.languages}
    for language in sorted({code for s in config.sources for code in s.languages} - known):
        users = ", ".join(s.id for s in config.sources if language in s.languages)
        notes.append(f"{users}: in {language!r}, for which the watchlist has no "
                     f"[context.{language}] words; only English context words count there")
    return notes


def _route_lines(config: Config) -> list[str]:
    """Each route, the channel it reaches and whether that channel's URL is set (never the
    URL itself), for `regmon check`."""
    from monitor.publish.channels import registry
    from monitor.publish.secrets import secret_source, secret_value

    notifications = config.notifications
    secrets = load_secrets(channels=notifications.channels)
    channels = registry(notifications)
    if not notifications.routes:
        have = [n for n, c in channels.items() if c.subscriber and secret_value(secrets, c.secret)]
        reach = f"every statement goes to {', '.join(have)} at once" if have \
            else "no channel is configured"
        return [f"Routes: none: {reach}"]
    lines = ["Routes:"]
    for number, route in enumerate(notifications.routes, start=1):
        channel = channels[route.channel]
        kind = notifications.channels[route.channel].kind \
            if route.channel in notifications.channels else route.channel
        to = notifications.channels[route.channel].to if route.channel in \
            notifications.channels else ()
        reach = f"{kind} to {', '.join(to)}" if to else kind
        state = "URL set" if secret_value(secrets, channel.secret) else \
            f"URL NOT SET: set {secret_source(channel.secret)}"
        lines.append(f"  {number}. {route.describe()} -> {route.channel} ({reach}): {state}")
    return lines


def _check_live(config: Config, args: argparse.Namespace) -> int:
    """`check --live ID`: each named stanza against its site."""
    from monitor.live import as_json, describe, verify
    from monitor.pipeline import Monitor

    monitor = Monitor(config, state_dir(args), SystemClock())
    try:
        reports = [verify(monitor, config.source(source_id)) for source_id in args.live]
    finally:
        monitor.close()
    for report in reports:
        print(as_json(report) if args.json else describe(report))
    return EXIT_OK if all(r.good for r in reports) else EXIT_FAILED


def _when_what(item: ListedItem) -> str:
    return f"{item.published or 'no date'}  {item.title}"


def cmd_match(args: argparse.Namespace) -> int:
    """Explain what the watchlist finds in a file: matches, near misses and why; or, with
    --history, what a watchlist would change among the stored statements."""
    from monitor.extract import extract_article, page_title
    from monitor.extract.pdf import PdfState, is_pdf, pdf_text
    from monitor.match import CompiledWatchlist

    if args.history:
        return _match_history(args)
    if args.file is None:
        raise UsageError("regmon match needs a FILE (or - for standard input), or --history")

    config = configuration(args) if args.source or not args.watchlist else None
    watchlist = load_watchlist(args.watchlist) if args.watchlist or config is None \
        else config.watchlist
    body_selectors: tuple[str, ...] = ()
    strip_selectors: tuple[str, ...] = ()
    language = "en"
    if args.source and config is not None:
        _unknown_sources(config, [args.source])
        source = config.source(args.source)
        body_selectors, strip_selectors = source.article_body, source.article_strip
        language = source.languages[0]
    raw = sys.stdin.buffer.read() if args.file == "-" else _read_file(args.file)
    title, attached = "", ""
    if is_pdf(raw):
        document = pdf_text(raw)
        if document.state != PdfState.OK:
            print(f"regmon: {args.file} is a PDF with {document.state}: nothing to match",
                  file=sys.stderr)
        text, attached = "", document.text
    elif b"\0" in raw[:4096]:
        raise UsageError(f"{args.file} is a binary file, not text, HTML or PDF")
    elif raw.lstrip()[:1] == b"<":
        title = page_title(raw)
        page = extract_article(raw, "", body_selectors, strip_selectors)
        text, language = page.text, page.language or language
    else:
        text = raw.decode("utf-8", "replace")
    result = CompiledWatchlist(watchlist).match(title, "", text, attached,
                                                args.language or language)
    if args.json:
        print(json.dumps({
            "companies": list(result.companies),
            "matches": [m.__dict__ for m in result.matches],
            "rejected": [r.__dict__ for r in result.rejections],
            "topic": result.is_topic,
            "topic_terms": list(result.topic_terms),
        }, ensure_ascii=False, indent=2))
        return EXIT_OK
    if result.matches:
        print(f"Matched: {', '.join(result.companies)}")
        for m in result.matches:
            print(f"  + {m.company}: found '{m.alias}' in the {m.field}. Why it counts: {m.rule}.")
            print(f"      “{one_line(m.snippet)}”")
    else:
        print("No watched company matched.")
    if result.rejections:
        print("Not counted:")
        for r in result.rejections:
            print(f"  - {r.company}: found '{r.alias}' in the {r.field}, but {r.reason}.")
            print(f"      “{one_line(r.snippet)}”")
    if result.is_topic:
        print(f"About facial recognition: yes ({', '.join(result.topic_terms[:5])})")
    else:
        print("About facial recognition: no facial-recognition words found")
    return EXIT_OK


def _match_history(args: argparse.Namespace) -> int:
    """Preview a watchlist against the store: which past statements it would add or drop."""
    from monitor.match import CompiledWatchlist
    from monitor.pipeline import rematch_plans

    watchlist = load_watchlist(args.watchlist) if args.watchlist \
        else configuration(args).watchlist
    store = _existing_store(args)
    try:
        changes = [c for plan in rematch_plans(store, CompiledWatchlist(watchlist)) for c in plan]
    finally:
        store.close()
    added = [c for c in changes if c.added]
    removed = [c for c in changes if c.removed]
    rest = sum(1 for c in changes if not c.added and not c.removed)
    if args.json:
        print(json.dumps({
            "added": [{"id": c.item_id, "title": c.title, "companies": list(c.added)}
                      for c in added],
            "removed": [{"id": c.item_id, "title": c.title, "companies": list(c.removed)}
                        for c in removed],
            "explained_anew": rest}, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"This watchlist would add {_statements(len(added))} and remove "
          f"{_statements(len(removed)) if removed else 'none'}"
          f"{':' if added or removed else '.'}")
    for change in added:
        print(f"  + #{change.item_id} {one_line(change.title)} (now {', '.join(change.added)})")
    for change in removed:
        print(f"  - #{change.item_id} {one_line(change.title)} (no longer "
              f"{', '.join(change.removed)})")
    if rest:
        print(f"{_statements(rest)} would keep their companies with new explanations.")
    return EXIT_OK


def _statements(count: int) -> str:
    return f"{count} past statement{'s' if count != 1 else ''}"


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise RegmonError(f"cannot read {name}: {exc.strerror}") from None


def _unknown_sources(config: Config, wanted: Sequence[str] | None) -> None:
    known = {s.id for s in config.sources}
    unknown = [s for s in wanted or () if s not in known]
    if unknown:
        raise ConfigError([ConfigProblem(str(config.path), "sources", None,
                                         f"no source with id {u!r} (known: {', '.join(sorted(known))})")
                           for u in unknown])


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(one_line(str(r[i]))) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 80) for w in widths]
    for row in [header, ["-" * w for w in widths], *rows]:
        texts = [one_line(str(c)) for c in row]
        cells = (c if len(c) <= w else c[:w - 1] + "…" for c, w in zip(texts, widths, strict=True))
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
