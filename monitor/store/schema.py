"""The schema: numbered migrations from the first version, applied in order, each in its own
transaction. A migration is never edited once released; a change is a new one."""

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        baseline_at TEXT,
        health TEXT NOT NULL DEFAULT 'ok',
        failures INTEGER NOT NULL DEFAULT 0,
        last_poll_at TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_count INTEGER,
        usual_count REAL
    );
    CREATE TABLE pages (
        key TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        checked_at TEXT NOT NULL
    );
    CREATE TABLE hosts (
        host TEXT PRIMARY KEY,
        not_before TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        robots_txt TEXT,
        robots_fetched TEXT
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source_id TEXT NOT NULL,
        regulator TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        published TEXT,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        tags TEXT NOT NULL DEFAULT '[]',
        body TEXT,
        body_state TEXT NOT NULL DEFAULT 'pending',
        body_attempts INTEGER NOT NULL DEFAULT 0,
        body_found_by TEXT,
        final_url TEXT,
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        is_new INTEGER NOT NULL,
        topic INTEGER NOT NULL DEFAULT 0,
        rejections TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX items_by_date ON items (published DESC, first_seen_at DESC);
    CREATE INDEX items_pending ON items (source_id, body_state);
    CREATE TABLE matches (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        company TEXT NOT NULL,
        alias TEXT NOT NULL,
        rule TEXT NOT NULL,
        snippet TEXT NOT NULL,
        field TEXT NOT NULL,
        PRIMARY KEY (item_id, position)
    );
    CREATE INDEX matches_by_company ON matches (company);
    """,
    # 2: how many listing pages a source had at its last full read, so an unchanged first
    # page (whose body held the page count) does not cost requests for pages that do not exist
    """
    ALTER TABLE sources ADD COLUMN total_pages INTEGER;
    """,
    # 3: the outbox: one row per statement and channel, written with the statement, drained
    # after commit; a row is marked sent only once the endpoint accepted it
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        item_id INTEGER REFERENCES items (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        message TEXT,
        event_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE UNIQUE INDEX outbox_once ON outbox (item_id, channel) WHERE item_id IS NOT NULL;
    CREATE INDEX outbox_due ON outbox (channel, state, id);
    CREATE TABLE channels (
        name TEXT PRIMARY KEY,
        paused_at TEXT,
        paused_reason TEXT
    );
    """,
    # 4: poll and error counters, for /metrics
    """
    ALTER TABLE sources ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: evidence: when the statement's page was read, its validators, the text's hash
    """
    ALTER TABLE items ADD COLUMN body_fetched_at TEXT;
    ALTER TABLE items ADD COLUMN body_etag TEXT;
    ALTER TABLE items ADD COLUMN body_last_modified TEXT;
    ALTER TABLE items ADD COLUMN content_hash TEXT;
    """,
    # 6: where a backfill of each source's archive stands, so an interrupted one resumes
    """
    CREATE TABLE backfill (
        source_id TEXT PRIMARY KEY,
        next_page INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    """,
    # 7: edits. Every version a statement has been seen in; an outbox row per reason, so an
    # edit that adds a watched company is announced once, beside the first announcement
    """
    CREATE TABLE versions (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        seen_at TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        content_hash TEXT
    );
    CREATE INDEX versions_by_item ON versions (item_id, seen_at);
    ALTER TABLE outbox ADD COLUMN reason TEXT NOT NULL DEFAULT 'new';
    DROP INDEX outbox_once;
    CREATE UNIQUE INDEX outbox_once ON outbox (item_id, channel, reason)
        WHERE item_id IS NOT NULL;
    """,
    # 8: joint statements: statements of different regulators about the same companies, on
    # the same days, share an event (the id of its first statement)
    """
    ALTER TABLE items ADD COLUMN event_id INTEGER;
    CREATE INDEX items_by_event ON items (event_id);
    """,
    # 9: joint events are looked up by stated day (an expression index): linking a listing of
    # thousands of new statements was quadratic without it
    """
    CREATE INDEX items_by_stated_day ON items (COALESCE(published, substr(first_seen_at, 1, 10)));
    """,
    # 10: when each host was last asked (pacing and Crawl-delay hold across processes), and
    # since when a source has had its health (the health feed and `status`)
    """
    ALTER TABLE hosts ADD COLUMN last_request_at TEXT;
    ALTER TABLE sources ADD COLUMN health_since TEXT;
    """,
    # 11: "www." is no part of a statement's identity any more (sites link both ways): keys
    # stored with it lose it, unless the bare form is stored too
    """
    UPDATE OR IGNORE items SET key = 'https://' || substr(key, 13) WHERE key LIKE 'https://www.%';
    """,
    # 12: the other URLs of a statement: where it lived before its site moved it, or a link
    # that redirects to it. A statement is found by any of them, and never stored twice
    """
    CREATE TABLE aliases (
        key TEXT PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE
    );
    """,
    # 13: the documents a statement's page links (PDF decisions): evidence and their text
    """
    CREATE TABLE attachments (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        state TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        content_hash TEXT,
        etag TEXT,
        last_modified TEXT,
        pages INTEGER NOT NULL DEFAULT 0,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (item_id, url)
    );
    """,
    # 14: languages and jurisdictions: a statement's language (its page's, else its
    # source's) picks the context words it is matched with; its jurisdiction ("ca-bc") makes
    # feeds by country and province. `meta` keeps the watchlist's fingerprint, so a changed
    # watchlist is run over the stored statements once
    """
    ALTER TABLE items ADD COLUMN language TEXT;
    ALTER TABLE items ADD COLUMN jurisdiction TEXT;
    CREATE INDEX items_by_jurisdiction ON items (jurisdiction);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 15: routes and digests: what kind of statement each is (a route filter and a feed
    # category), and for an outbox row held for a digest, when its window opens and which
    """
    ALTER TABLE items ADD COLUMN statement_type TEXT NOT NULL DEFAULT 'other';
    ALTER TABLE outbox ADD COLUMN due_at TEXT;
    ALTER TABLE outbox ADD COLUMN digest TEXT;
    """,
    # 16: full-text search over statements' titles, summaries and page text (FTS5, its
    # index kept in step with the items table by triggers), for the pages' `q` filter; and a
    # source's newest stated days found through an index (every poll and page reads them)
    """
    CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, body, content='items',
        content_rowid='id', tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts (rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
    END;
    CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, body ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
        INSERT INTO items_fts (rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END;
    INSERT INTO items_fts (items_fts) VALUES ('rebuild');
    CREATE INDEX items_by_source_day ON items (source_id, published);
    """,
)
