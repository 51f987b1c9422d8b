//! Schema migrations, written once with a few dialect placeholders:
//! `{id}` an auto-increment primary key, `{big}` a 64-bit integer, `{pg}` a line only
//! PostgreSQL runs, `{sqlite}` a line only SQLite runs, `{clustered}` a table SQLite keeps
//! in primary-key order.

/// One migration: a version, a name and the statements to run.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sql: r#"
CREATE TABLE divisions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    population {big}
);
CREATE INDEX divisions_parent ON divisions (parent_code);
CREATE INDEX divisions_name ON divisions (name);

CREATE TABLE units (
    id {id},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id {big} REFERENCES units (id),
    division_code TEXT REFERENCES divisions (code),
    active {big} NOT NULL DEFAULT 1
);
CREATE INDEX units_parent ON units (parent_id);
CREATE INDEX units_division ON units (division_code);

CREATE TABLE categories (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES categories (code),
    level {big} NOT NULL,
    default_tier {big},
    active {big} NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id {id},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id {big} REFERENCES units (id),
    password_hash TEXT,
    active {big} NOT NULL DEFAULT 1,
    created_at {big} NOT NULL
);

CREATE TABLE api_tokens (
    id {id},
    user_id {big} NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at {big} NOT NULL,
    expires_at {big},
    revoked {big} NOT NULL DEFAULT 0
);

CREATE TABLE tickets (
    id {id},
    number TEXT NOT NULL UNIQUE,
    tracking_code TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    category_code TEXT,
    division_code TEXT,
    lead_unit_id {big},
    parent_id {big},
    citizen_phone TEXT,
    created_at {big} NOT NULL,
    updated_at {big} NOT NULL,
    version {big} NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX tickets_state ON tickets (state, id);
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_lead ON tickets (lead_unit_id, id);
CREATE INDEX tickets_category ON tickets (category_code, id);
CREATE INDEX tickets_division ON tickets (division_code, id);
CREATE INDEX tickets_channel ON tickets (channel, id);
CREATE INDEX tickets_phone ON tickets (citizen_phone, id);

CREATE TABLE ticket_units (
    ticket_id {big} NOT NULL REFERENCES tickets (id),
    unit_id {big} NOT NULL,
    is_lead {big} NOT NULL,
    PRIMARY KEY (ticket_id, unit_id)
);
CREATE INDEX ticket_units_unit ON ticket_units (unit_id, ticket_id);

CREATE TABLE ticket_events (
    id {id},
    ticket_id {big} NOT NULL REFERENCES tickets (id),
    seq {big} NOT NULL,
    type TEXT NOT NULL,
    at {big} NOT NULL,
    actor_user_id {big} NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit_id {big},
    data TEXT NOT NULL,
    UNIQUE (ticket_id, seq)
);
CREATE INDEX ticket_events_at ON ticket_events (at);

CREATE TABLE idempotency_keys (
    user_id {big} NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    ticket_id {big},
    created_at {big} NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value {big} NOT NULL
);
"#,
    },
    Migration {
        version: 2,
        name: "login lock-out",
        sql: r#"
ALTER TABLE users ADD COLUMN failed_logins {big} NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until {big};
"#,
    },
    Migration {
        version: 3,
        name: "pending extensions column",
        sql: r#"
ALTER TABLE tickets ADD COLUMN extension_pending {big} NOT NULL DEFAULT 0;
UPDATE tickets SET extension_pending = 1 WHERE body LIKE '%"pending_extension":{%';
CREATE INDEX tickets_extension_pending ON tickets (extension_pending, id);
"#,
    },
    Migration {
        version: 4,
        name: "category and division levels",
        sql: r#"
ALTER TABLE tickets ADD COLUMN category_l1 TEXT;
ALTER TABLE tickets ADD COLUMN category_l2 TEXT;
ALTER TABLE tickets ADD COLUMN division_county TEXT;
ALTER TABLE tickets ADD COLUMN division_street TEXT;
UPDATE tickets SET category_l1 = substr(category_code, 1, 2) WHERE length(category_code) >= 2;
UPDATE tickets SET category_l2 = substr(category_code, 1, 4) WHERE length(category_code) >= 4;
UPDATE tickets SET division_county = substr(division_code, 1, 6) WHERE length(division_code) >= 6;
UPDATE tickets SET division_street = substr(division_code, 1, 9) WHERE length(division_code) >= 9;
CREATE INDEX tickets_category_l1 ON tickets (category_l1, id);
CREATE INDEX tickets_category_l2 ON tickets (category_l2, id);
CREATE INDEX tickets_division_county ON tickets (division_county, id);
CREATE INDEX tickets_division_street ON tickets (division_street, id);
"#,
    },
    Migration {
        version: 5,
        name: "calendar and settings",
        sql: r#"
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE calendar_years (
    year {big} PRIMARY KEY
);
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at {big} NOT NULL
);
"#,
    },
    Migration {
        version: 6,
        name: "next deadline",
        sql: r#"
ALTER TABLE tickets ADD COLUMN next_deadline_at {big};
CREATE INDEX tickets_next_deadline ON tickets (next_deadline_at);
"#,
    },
    Migration {
        version: 7,
        name: "ticket watch table",
        // What the deadline watcher and the supervisor board read, in a narrow table of its
        // own: moving a ticket's next deadline rewrites this small row and its two indexes,
        // not the wide ticket row and its many. `version` follows the ticket's, so that a
        // watcher's move is refused once the ticket has changed. The levels are those of open
        // tickets (0 once a ticket ends): alert 1 warning, 2 overdue; supervision 1..3.
        sql: r#"
CREATE TABLE ticket_watch (
    ticket_id {big} PRIMARY KEY REFERENCES tickets (id),
    version {big} NOT NULL,
    next_at {big},
    alert_level {big} NOT NULL DEFAULT 0,
    supervision_level {big} NOT NULL DEFAULT 0,
    awaiting_answer {big} NOT NULL DEFAULT 0
);
INSERT INTO ticket_watch (ticket_id, version, next_at) SELECT id, version, next_deadline_at FROM tickets;
UPDATE ticket_watch SET alert_level = 1 WHERE ticket_id IN (SELECT id FROM tickets WHERE body LIKE '%"level":"warning"%');
UPDATE ticket_watch SET alert_level = 2 WHERE ticket_id IN (SELECT id FROM tickets WHERE body LIKE '%"level":"overdue"%');
CREATE INDEX ticket_watch_next ON ticket_watch (next_at);
CREATE INDEX ticket_watch_flagged ON ticket_watch (ticket_id) WHERE alert_level > 0 OR supervision_level > 0;
DROP INDEX tickets_next_deadline;
ALTER TABLE tickets DROP COLUMN next_deadline_at;
"#,
    },
    Migration {
        version: 8,
        name: "notifications outbox",
        // Notices are written in the same transaction as the events that call for them;
        // a sender claims due ones with a lease, delivers, and marks them sent (or retries
        // later). Console notices are delivered by being written.
        sql: r#"
CREATE TABLE outbox (
    id {id},
    ticket_id {big} NOT NULL REFERENCES tickets (id),
    event_seq {big} NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at {big} NOT NULL,
    not_before {big} NOT NULL,
    attempts {big} NOT NULL DEFAULT 0,
    claimed_until {big},
    sent_at {big},
    failed_at {big},
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (not_before) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_console ON outbox (recipient, id) WHERE channel = 'console';
CREATE TABLE notice_marks (
    user_id {big} PRIMARY KEY,
    seen_id {big} NOT NULL
);
CREATE TABLE unit_contacts (
    unit_id {big} PRIMARY KEY REFERENCES units (id),
    liaison TEXT NOT NULL,
    phone TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 9,
        name: "room for in-place ticket updates",
        // PostgreSQL: leave room in each page of tickets, so that an update touching no
        // indexed column (a note, an alert, a supervision) stays on its page and writes no
        // index entry ("HOT"). Pages written before this migration get the room when the
        // table is next rewritten (`VACUUM FULL tickets`).
        sql: r#"
{pg}ALTER TABLE tickets SET (fillfactor = 70);
"#,
    },
    Migration {
        version: 10,
        name: "no per-row reference checks on appended rows",
        // PostgreSQL checks a foreign key with a trigger run once per inserted row (a
        // locking read of the ticket): on the event log and the outbox, where the store
        // writes every row in the same transaction as its ticket's update, those checks
        // cost a third of the watcher's write time and guard nothing the transaction does
        // not already guarantee (tickets are never deleted). SQLite's check is an index
        // probe and stays.
        sql: r#"
{pg}ALTER TABLE ticket_events DROP CONSTRAINT IF EXISTS ticket_events_ticket_id_fkey;
{pg}ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_ticket_id_fkey;
"#,
    },
    Migration {
        version: 11,
        name: "dispatch catalogue",
        // The catalogue's entries as they stand, and every change to them (before and
        // after, who, when), so that any past state can be shown and audited. Dates are
        // ISO text (YYYY-MM-DD), which orders as the dates do.
        sql: r#"
CREATE TABLE catalogue_entries (
    id {id},
    category_code TEXT NOT NULL REFERENCES categories (code),
    division_code TEXT REFERENCES divisions (code),
    unit_id {big} NOT NULL REFERENCES units (id),
    ownership TEXT NOT NULL,
    tier {big},
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    note TEXT NOT NULL DEFAULT '',
    version {big} NOT NULL
);
CREATE INDEX catalogue_category ON catalogue_entries (category_code);
CREATE TABLE catalogue_changes (
    id {id},
    entry_id {big} NOT NULL,
    version {big} NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    user_id {big} NOT NULL,
    at {big} NOT NULL
);
CREATE INDEX catalogue_changes_entry ON catalogue_changes (entry_id, id);
"#,
    },
    Migration {
        version: 12,
        name: "gazetteer",
        // Roads, residential compounds and landmarks the deployment maps to divisions, for
        // resolving addresses that name no division.
        sql: r#"
CREATE TABLE gazetteer (
    id {id},
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions (code)
);
"#,
    },
    Migration {
        version: 13,
        name: "knowledge base",
        // Articles as JSON (the whole base is read at once to build the search index), and
        // every change to them (before and after, who, when).
        sql: r#"
CREATE TABLE knowledge_articles (
    id {id},
    body TEXT NOT NULL,
    version {big} NOT NULL
);
CREATE TABLE knowledge_changes (
    id {id},
    article_id {big} NOT NULL,
    version {big} NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    user_id {big} NOT NULL,
    at {big} NOT NULL
);
CREATE INDEX knowledge_changes_article ON knowledge_changes (article_id, id);
"#,
    },
    Migration {
        version: 14,
        name: "evaluation aggregates",
        // What the events add up to for the figures (see `mashangban_domain::aggregates`):
        // one row per day × unit × category × channel × division (0 and '' for none), and
        // the same rolled up by each grouping the reports use, for fast month-long reads.
        // On PostgreSQL, the roll-up rows of groupings with few groups (the city, channels,
        // districts, top-level categories) are spread over 8 shards (by ticket), so that
        // concurrent writers seldom wait for one another on the same day's row. Both are
        // kept by the transactions that write the events, and can be rebuilt from them. On
        // SQLite both are kept in key order (a month of one grouping is one run of pages).
        sql: r#"
CREATE TABLE kpi_facts (
    day TEXT NOT NULL,
    unit_id {big} NOT NULL,
    category_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    division_code TEXT NOT NULL,
    requests {big} NOT NULL DEFAULT 0,
    callbacks {big} NOT NULL DEFAULT 0,
    contacted {big} NOT NULL DEFAULT 0,
    resolved {big} NOT NULL DEFAULT 0,
    partly_resolved {big} NOT NULL DEFAULT 0,
    satisfied {big} NOT NULL DEFAULT 0,
    basically_satisfied {big} NOT NULL DEFAULT 0,
    finished {big} NOT NULL DEFAULT 0,
    finished_with_deadline {big} NOT NULL DEFAULT 0,
    finished_on_time {big} NOT NULL DEFAULT 0,
    dispatches {big} NOT NULL DEFAULT 0,
    returns {big} NOT NULL DEFAULT 0,
    direct {big} NOT NULL DEFAULT 0,
    handling_seconds {big} NOT NULL DEFAULT 0,
    supervisions {big} NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_id, category_code, channel, division_code)
){clustered};
CREATE TABLE kpi_rollup (
    dim TEXT NOT NULL,
    day TEXT NOT NULL,
    dim_key TEXT NOT NULL,
    shard {big} NOT NULL,
    requests {big} NOT NULL DEFAULT 0,
    callbacks {big} NOT NULL DEFAULT 0,
    contacted {big} NOT NULL DEFAULT 0,
    resolved {big} NOT NULL DEFAULT 0,
    partly_resolved {big} NOT NULL DEFAULT 0,
    satisfied {big} NOT NULL DEFAULT 0,
    basically_satisfied {big} NOT NULL DEFAULT 0,
    finished {big} NOT NULL DEFAULT 0,
    finished_with_deadline {big} NOT NULL DEFAULT 0,
    finished_on_time {big} NOT NULL DEFAULT 0,
    dispatches {big} NOT NULL DEFAULT 0,
    returns {big} NOT NULL DEFAULT 0,
    direct {big} NOT NULL DEFAULT 0,
    handling_seconds {big} NOT NULL DEFAULT 0,
    supervisions {big} NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, day, dim_key, shard)
){clustered};
"#,
    },
    Migration {
        version: 15,
        name: "monthly and issue roll-ups",
        // The groupings with many groups (units, streets, second- and third-level categories)
        // also keep a row a group and a calendar month (dim `month:<grouping>`, day = the
        // month's first day), so that a month's ranking sums one row a unit rather than thirty; and the issue roll-ups (by issue group, by group and
        // place, unit or district: see `aggregates::issue_groups_of`), so that the daily
        // report's hot issues read a few hundred rows rather than the day's fine rows, and the
        // early warnings a short series per issue and district.
        // Filled here from the rows already kept.
        sql: r#"
INSERT INTO kpi_rollup (dim, day, dim_key, shard, requests, callbacks, contacted, resolved, partly_resolved, satisfied, basically_satisfied, finished, finished_with_deadline, finished_on_time, dispatches, returns, direct, handling_seconds, supervisions)
SELECT 'month:' || dim, substr(day, 1, 7) || '-01', dim_key, shard, SUM(requests), SUM(callbacks), SUM(contacted), SUM(resolved), SUM(partly_resolved), SUM(satisfied), SUM(basically_satisfied), SUM(finished), SUM(finished_with_deadline), SUM(finished_on_time), SUM(dispatches), SUM(returns), SUM(direct), SUM(handling_seconds), SUM(supervisions)
FROM kpi_rollup WHERE dim IN ('unit', 'street', 'category_l2', 'category')
GROUP BY dim, substr(day, 1, 7), dim_key, shard;
INSERT INTO kpi_rollup (dim, day, dim_key, shard, requests, callbacks, contacted, resolved, partly_resolved, satisfied, basically_satisfied, finished, finished_with_deadline, finished_on_time, dispatches, returns, direct, handling_seconds, supervisions)
SELECT 'issue', day, substr(category_code, 1, 4), 0, SUM(requests), SUM(callbacks), SUM(contacted), SUM(resolved), SUM(partly_resolved), SUM(satisfied), SUM(basically_satisfied), SUM(finished), SUM(finished_with_deadline), SUM(finished_on_time), SUM(dispatches), SUM(returns), SUM(direct), SUM(handling_seconds), SUM(supervisions)
FROM kpi_facts WHERE category_code <> ''
GROUP BY day, substr(category_code, 1, 4);
INSERT INTO kpi_rollup (dim, day, dim_key, shard, requests, callbacks, contacted, resolved, partly_resolved, satisfied, basically_satisfied, finished, finished_with_deadline, finished_on_time, dispatches, returns, direct, handling_seconds, supervisions)
SELECT 'issue_place', day, substr(category_code, 1, 4) || '|' || division_code, 0, SUM(requests), SUM(callbacks), SUM(contacted), SUM(resolved), SUM(partly_resolved), SUM(satisfied), SUM(basically_satisfied), SUM(finished), SUM(finished_with_deadline), SUM(finished_on_time), SUM(dispatches), SUM(returns), SUM(direct), SUM(handling_seconds), SUM(supervisions)
FROM kpi_facts WHERE category_code <> '' AND division_code <> ''
GROUP BY day, substr(category_code, 1, 4), division_code;
INSERT INTO kpi_rollup (dim, day, dim_key, shard, requests, callbacks, contacted, resolved, partly_resolved, satisfied, basically_satisfied, finished, finished_with_deadline, finished_on_time, dispatches, returns, direct, handling_seconds, supervisions)
SELECT 'issue_unit', day, substr(category_code, 1, 4) || '|' || CAST(unit_id AS TEXT), 0, SUM(requests), SUM(callbacks), SUM(contacted), SUM(resolved), SUM(partly_resolved), SUM(satisfied), SUM(basically_satisfied), SUM(finished), SUM(finished_with_deadline), SUM(finished_on_time), SUM(dispatches), SUM(returns), SUM(direct), SUM(handling_seconds), SUM(supervisions)
FROM kpi_facts WHERE category_code <> '' AND unit_id <> 0
GROUP BY day, substr(category_code, 1, 4), unit_id;
INSERT INTO kpi_rollup (dim, day, dim_key, shard, requests, callbacks, contacted, resolved, partly_resolved, satisfied, basically_satisfied, finished, finished_with_deadline, finished_on_time, dispatches, returns, direct, handling_seconds, supervisions)
SELECT 'issue_area', day, substr(category_code, 1, 4) || '|' || substr(division_code, 1, 6), 0, SUM(requests), SUM(callbacks), SUM(contacted), SUM(resolved), SUM(partly_resolved), SUM(satisfied), SUM(basically_satisfied), SUM(finished), SUM(finished_with_deadline), SUM(finished_on_time), SUM(dispatches), SUM(returns), SUM(direct), SUM(handling_seconds), SUM(supervisions)
FROM kpi_facts WHERE category_code <> '' AND length(division_code) >= 6 AND substr(division_code, 5, 2) <> '00'
GROUP BY day, substr(category_code, 1, 4), substr(division_code, 1, 6);
"#,
    },
    Migration {
        version: 16,
        name: "early warnings",
        // One row a situation (kind and key), raised once and raised again only when worse.
        sql: r#"
CREATE TABLE warnings (
    id {id},
    kind TEXT NOT NULL,
    warning_key TEXT NOT NULL,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    ticket_id {big},
    first_at {big} NOT NULL,
    last_at {big} NOT NULL,
    status TEXT NOT NULL,
    handled_by {big},
    handled_at {big},
    note TEXT,
    UNIQUE (kind, warning_key)
);
CREATE INDEX warnings_recent ON warnings (last_at, id);
"#,
    },
    Migration {
        version: 17,
        name: "issue roll-ups of requests, direct answers and dispatches only",
        // The issue roll-ups now take only the facts of requests, direct answers and
        // dispatches (the only measures read from them), and PostgreSQL puts each transaction's sums in one shard:
        // the aggregates are rebuilt from the events after this migration (see
        // `SqlStore::migrate`), so that a rebuild later gives the same rows.
        sql: "SELECT 1;",
    },
    Migration {
        version: 18,
        name: "each unit's queue of a ticket",
        // What a ticket waits for from each of its units (`Ticket::queue_of`: to sign, in
        // hand, with a level below, a reply to review), kept beside the unit so that a
        // desk lists its queue through the unit's index. Tickets written before had no
        // levels below their lead unit: their queue follows from the state alone.
        sql: r#"
ALTER TABLE ticket_units ADD COLUMN queue TEXT NOT NULL DEFAULT 'none';
UPDATE ticket_units SET queue = 'to_sign'
    WHERE is_lead = 1 AND ticket_id IN (SELECT id FROM tickets WHERE state = 'dispatched');
UPDATE ticket_units SET queue = 'in_hand'
    WHERE ticket_id IN (SELECT id FROM tickets WHERE state = 'in_progress')
       OR (is_lead = 0 AND ticket_id IN (SELECT id FROM tickets WHERE state = 'dispatched'));
CREATE INDEX ticket_units_queue ON ticket_units (unit_id, queue, ticket_id);
"#,
    },
    Migration {
        version: 19,
        name: "console notices read one by one",
        // A notice is read when its user opened it (a row here) or read everything up to
        // a mark (`notice_marks`, now "read up to"): the badge counts what is left.
        sql: r#"
CREATE TABLE notice_reads (
    user_id {big} NOT NULL,
    notice_id {big} NOT NULL,
    read_at {big} NOT NULL,
    PRIMARY KEY (user_id, notice_id)
);
"#,
    },
    Migration {
        version: 20,
        name: "saved list filters",
        // A user's named filters of the ticket list (保存的筛选): the query string as the
        // list reads it, one per name.
        sql: r#"
CREATE TABLE saved_filters (
    id {id},
    user_id {big} NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    saved_at {big} NOT NULL,
    UNIQUE (user_id, name)
);
"#,
    },
    Migration {
        version: 21,
        name: "counted attempts",
        // Limits that hold across instances: wrong tracking codes for a number, requests
        // from a phone or an address. One row an attempt; old rows are deleted as new ones
        // come.
        sql: r#"
CREATE TABLE attempts (
    key TEXT NOT NULL,
    at {big} NOT NULL
);
CREATE INDEX attempts_key_at ON attempts (key, at);
CREATE INDEX attempts_at ON attempts (at);
"#,
    },
    Migration {
        version: 22,
        name: "citizens' ratings in the aggregates",
        // A callback is an agent's or the citizen's own rating (一事一评): the citizens' part
        // of the callback counts, the answers a rating left unsaid, and the bad ratings
        // judged unreasonable. The aggregates are rebuilt from the events after this
        // migration (`REBUILD_AFTER`). And the messages from outside already handled (an
        // inbound SMS by its gateway's id), so that a replay changes nothing.
        sql: r#"
ALTER TABLE kpi_facts ADD COLUMN citizen_callbacks {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN citizen_contacted {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN citizen_resolved {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN citizen_partly_resolved {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN citizen_satisfied {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN citizen_basically_satisfied {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN contact_unasked {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN resolution_unasked {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN excluded_ratings {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_callbacks {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_contacted {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_resolved {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_partly_resolved {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_satisfied {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN citizen_basically_satisfied {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN contact_unasked {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN resolution_unasked {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN excluded_ratings {big} NOT NULL DEFAULT 0;
CREATE TABLE handled_messages (
    message_key TEXT PRIMARY KEY,
    at {big} NOT NULL
);
"#,
    },
    Migration {
        version: 23,
        name: "citizens' codes and sessions",
        // A citizen looking up their own requests by phone: the one-time code sent by SMS
        // (its digest, when it dies, the tries used) and the session it opens (the token's
        // digest). Neither code nor token is kept in the clear.
        sql: r#"
CREATE TABLE citizen_codes (
    phone TEXT PRIMARY KEY,
    code_digest TEXT NOT NULL,
    expires_at {big} NOT NULL,
    tries {big} NOT NULL DEFAULT 0
);
CREATE TABLE citizen_sessions (
    token_digest TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    expires_at {big} NOT NULL
);
CREATE INDEX citizen_sessions_expiry ON citizen_sessions (expires_at);
"#,
    },
    Migration {
        version: 24,
        name: "attachments",
        // Photos and files of requests: what each is and the request it belongs to; the
        // bytes themselves are kept on disk by their SHA-256 (`MASHANGBAN_FILES_DIR`), so that
        // several instances may share one folder.
        sql: r#"
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    ticket_id {big},
    kind TEXT NOT NULL,
    bytes {big} NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    thumbnail_sha256 TEXT,
    uploaded_at {big} NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);
"#,
    },
    Migration {
        version: 25,
        name: "channels and merged hotlines",
        // The channels requests come in by, and the hotlines merged into 12345, as data an
        // administrator keeps (the defaults are written after this migration, from the
        // domain's list). A ticket names its channel by code, as before.
        sql: r#"
CREATE TABLE channels (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    active {big} NOT NULL DEFAULT 1,
    position {big} NOT NULL
);
CREATE TABLE hotline_lines (
    number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category_code TEXT,
    unit_id {big} REFERENCES units (id),
    active {big} NOT NULL DEFAULT 1
);
"#,
    },
    Migration {
        version: 26,
        name: "client applications' keys",
        // The keys of the applications that post requests over the open protocols (an
        // Open311 client such as FixMyStreet): only their SHA-256 is kept; a revoked key
        // stays, for the record of which client posted what.
        sql: r#"
CREATE TABLE api_keys (
    id {id},
    client TEXT NOT NULL,
    key_digest TEXT NOT NULL UNIQUE,
    created_at {big} NOT NULL,
    revoked_at {big}
);
"#,
    },
    Migration {
        version: 27,
        name: "WeChat followers and dialogues",
        // A request taken over WeChat is its follower's (their openid, to push its progress
        // and to find their requests when they ask); a dialogue in progress is kept between
        // their messages.
        sql: r#"
ALTER TABLE tickets ADD COLUMN citizen_wechat TEXT;
CREATE INDEX tickets_wechat ON tickets (citizen_wechat, id);
CREATE TABLE dialogues (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at {big} NOT NULL
);
"#,
    },
    Migration {
        version: 28,
        name: "exchange with other platforms",
        // The platforms requests are exchanged with (110, the provincial and national
        // platforms), each with its key; and the aggregates' count of requests handed out
        // (转出), 0 for every request before.
        sql: r#"
CREATE TABLE exchange_platforms (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    webhook_url TEXT,
    secret TEXT NOT NULL,
    active {big} NOT NULL DEFAULT 1
);
ALTER TABLE kpi_facts ADD COLUMN transferred_out {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN transferred_out {big} NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        version: 29,
        name: "category descriptions and keywords",
        // What a category covers and the words citizens use for it, which the classifier
        // learns from before any ticket is closed. Keywords are kept space-separated (a
        // keyword has no space).
        sql: r#"
ALTER TABLE categories ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE categories ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
"#,
    },
    Migration {
        version: 30,
        name: "reply inspection in the aggregates",
        // The hotline's approvals whose reply was inspected (答复质检), and of those the
        // replies with findings: 0 for every approval before, none of which was inspected.
        sql: r#"
ALTER TABLE kpi_facts ADD COLUMN replies_inspected {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN replies_flagged {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN replies_inspected {big} NOT NULL DEFAULT 0;
ALTER TABLE kpi_rollup ADD COLUMN replies_flagged {big} NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        version: 31,
        name: "failed deliveries indexed",
        // The metrics endpoint counts the notices given up on, per channel, on every scrape:
        // a few rows of an index rather than the whole outbox.
        sql: r#"
CREATE INDEX outbox_failed ON outbox (channel) WHERE failed_at IS NOT NULL;
"#,
    },
    Migration {
        version: 32,
        name: "typical cases",
        // Typical cases (典型案例): one a ticket, the case itself as JSON with the columns
        // the portal's lists read (state, category, when published, and the words searched:
        // only the published texts, never what the drafting took out), and every change to it,
        // before and after, as the knowledge base keeps its own.
        sql: r#"
CREATE TABLE typical_cases (
    id {id},
    ticket_id {big} NOT NULL UNIQUE,
    state TEXT NOT NULL,
    category_code TEXT,
    published_at {big},
    words TEXT NOT NULL,
    body TEXT NOT NULL,
    version {big} NOT NULL
);
CREATE INDEX typical_cases_state ON typical_cases (state, published_at);
CREATE TABLE typical_case_changes (
    id {id},
    case_id {big} NOT NULL,
    version {big} NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    user_id {big} NOT NULL,
    at {big} NOT NULL
);
CREATE INDEX typical_case_changes_case ON typical_case_changes (case_id, id);
"#,
    },
    Migration {
        version: 33,
        name: "open data releases",
        // The monthly releases of open data (数据开放), kept as published: a month's first
        // release is revision 1 (the scheduled one; the unique pair makes it one across
        // instances), a release made again the next revision; none is ever rewritten.
        sql: r#"
CREATE TABLE open_data_releases (
    id {id},
    month TEXT NOT NULL,
    revision {big} NOT NULL,
    generated_at {big} NOT NULL,
    generated_by {big} NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (month, revision)
);
"#,
    },
    Migration {
        version: 34,
        name: "retention",
        // Which kinds of personal data have been taken out of which ticket (one row each,
        // written first in the transaction that takes them out: the one claim that makes a
        // ticket's scrubbing happen once however many instances run the task), and the log
        // of the runs and of the citizens' requests to erase (by whom, why, how many).
        sql: r#"
CREATE TABLE ticket_retention (
    ticket_id {big} NOT NULL,
    kind TEXT NOT NULL,
    done_at {big} NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
CREATE TABLE retention_log (
    id {id},
    at {big} NOT NULL,
    user_id {big} NOT NULL,
    what TEXT NOT NULL,
    tickets {big} NOT NULL,
    data {big} NOT NULL,
    reason TEXT
);
"#,
    },
    Migration {
        version: 35,
        name: "monthly topics",
        // Monthly topics (每月一题): the topic as one document (its proposal, adoption,
        // tasks with their reports and supervisions, policies) written through the versioned
        // write, with every change before and after.
        sql: r#"
CREATE TABLE topics (
    id {id},
    state TEXT NOT NULL,
    category_code TEXT NOT NULL,
    proposed_at {big} NOT NULL,
    body TEXT NOT NULL,
    version {big} NOT NULL
);
CREATE INDEX topics_state ON topics (state, id);
CREATE TABLE topic_changes (
    id {id},
    topic_id {big} NOT NULL,
    version {big} NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    user_id {big} NOT NULL,
    at {big} NOT NULL
);
CREATE INDEX topic_changes_topic ON topic_changes (topic_id, id);
"#,
    },
    Migration {
        version: 36,
        name: "files by their bytes",
        // Retention removes a request's files: their bytes go only when no other record
        // holds the same SHA-256 (as a file or a thumbnail), and uploads never given to a
        // request go after a day; both found by index. The bytes whose records went are
        // listed in the same transaction, and removed from disk by the next passes: none is
        // forgotten by a crash, nor taken from an upload of the same file under way.
        sql: r#"
CREATE TABLE file_releases (
    sha256 TEXT PRIMARY KEY,
    released_at {big} NOT NULL
);
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_thumbnail ON attachments (thumbnail_sha256);
CREATE INDEX attachments_unattached ON attachments (uploaded_at) WHERE ticket_id IS NULL;
"#,
    },
    Migration {
        version: 37,
        name: "notices about no ticket",
        // A notice may be about something other than a ticket: a monthly topic's task, a
        // surge of requests city-wide. PostgreSQL drops the constraint; SQLite, which
        // cannot, copies the outbox into a table without it (same columns, same ids).
        sql: r#"
{pg}ALTER TABLE outbox ALTER COLUMN ticket_id DROP NOT NULL;
{sqlite}CREATE TABLE outbox_free (
{sqlite}    id {id},
{sqlite}    ticket_id {big} REFERENCES tickets (id),
{sqlite}    event_seq {big} NOT NULL,
{sqlite}    channel TEXT NOT NULL,
{sqlite}    recipient TEXT NOT NULL,
{sqlite}    payload TEXT NOT NULL,
{sqlite}    created_at {big} NOT NULL,
{sqlite}    not_before {big} NOT NULL,
{sqlite}    attempts {big} NOT NULL DEFAULT 0,
{sqlite}    claimed_until {big},
{sqlite}    sent_at {big},
{sqlite}    failed_at {big},
{sqlite}    last_error TEXT
{sqlite});
{sqlite}INSERT INTO outbox_free (id, ticket_id, event_seq, channel, recipient, payload, created_at, not_before, attempts, claimed_until, sent_at, failed_at, last_error)
{sqlite}    SELECT id, ticket_id, event_seq, channel, recipient, payload, created_at, not_before, attempts, claimed_until, sent_at, failed_at, last_error FROM outbox;
{sqlite}DROP TABLE outbox;
{sqlite}ALTER TABLE outbox_free RENAME TO outbox;
{sqlite}CREATE INDEX outbox_pending ON outbox (not_before) WHERE sent_at IS NULL AND failed_at IS NULL;
{sqlite}CREATE INDEX outbox_console ON outbox (recipient, id) WHERE channel = 'console';
{sqlite}CREATE INDEX outbox_failed ON outbox (channel) WHERE failed_at IS NOT NULL;
"#,
    },
    Migration {
        version: 38,
        name: "evaluation facts as deltas",
        // A transaction's evaluation facts are appended as one row and folded into the
        // aggregates later (and before each read): see `sql::aggregates::Pending`. No index
        // but the key: the folds take the oldest first.
        sql: r#"
CREATE TABLE kpi_deltas (
    id {id},
    facts TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 39,
        name: "tracking codes without an index",
        // A citizen's tracking code is only ever compared with the one of the ticket its
        // number names (80 random bits: no two alike in practice); its unique index cost a
        // page of the write-ahead log at every create for nothing. PostgreSQL drops the
        // constraint; SQLite, which cannot, copies the tickets into a table without it
        // (same columns in the same order, same ids, the id sequence where it was) with its
        // foreign keys off for the copy (see `SQLITE_FOREIGN_KEYS_OFF`), and makes the
        // other indexes again under their names.
        sql: r#"
{pg}ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_tracking_code_key;
{sqlite}CREATE TABLE tickets_rebuilt (
{sqlite}    id {id},
{sqlite}    number TEXT NOT NULL UNIQUE,
{sqlite}    tracking_code TEXT NOT NULL,
{sqlite}    state TEXT NOT NULL,
{sqlite}    channel TEXT NOT NULL,
{sqlite}    kind TEXT NOT NULL,
{sqlite}    category_code TEXT,
{sqlite}    division_code TEXT,
{sqlite}    lead_unit_id {big},
{sqlite}    parent_id {big},
{sqlite}    citizen_phone TEXT,
{sqlite}    created_at {big} NOT NULL,
{sqlite}    updated_at {big} NOT NULL,
{sqlite}    version {big} NOT NULL,
{sqlite}    body TEXT NOT NULL,
{sqlite}    extension_pending {big} NOT NULL DEFAULT 0,
{sqlite}    category_l1 TEXT,
{sqlite}    category_l2 TEXT,
{sqlite}    division_county TEXT,
{sqlite}    division_street TEXT,
{sqlite}    citizen_wechat TEXT
{sqlite});
{sqlite}INSERT INTO tickets_rebuilt (id, number, tracking_code, state, channel, kind, category_code, division_code, lead_unit_id, parent_id, citizen_phone, created_at, updated_at, version, body, extension_pending, category_l1, category_l2, division_county, division_street, citizen_wechat)
{sqlite}    SELECT id, number, tracking_code, state, channel, kind, category_code, division_code, lead_unit_id, parent_id, citizen_phone, created_at, updated_at, version, body, extension_pending, category_l1, category_l2, division_county, division_street, citizen_wechat FROM tickets ORDER BY id;
{sqlite}INSERT INTO sqlite_sequence (name, seq) SELECT 'tickets_rebuilt', 0 FROM sqlite_sequence WHERE name = 'tickets' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tickets_rebuilt');
{sqlite}UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'tickets')) WHERE name = 'tickets_rebuilt';
{sqlite}DROP TABLE tickets;
{sqlite}ALTER TABLE tickets_rebuilt RENAME TO tickets;
{sqlite}CREATE INDEX tickets_state ON tickets (state, id);
{sqlite}CREATE INDEX tickets_created ON tickets (created_at, id);
{sqlite}CREATE INDEX tickets_lead ON tickets (lead_unit_id, id);
{sqlite}CREATE INDEX tickets_category ON tickets (category_code, id);
{sqlite}CREATE INDEX tickets_division ON tickets (division_code, id);
{sqlite}CREATE INDEX tickets_channel ON tickets (channel, id);
{sqlite}CREATE INDEX tickets_phone ON tickets (citizen_phone, id);
{sqlite}CREATE INDEX tickets_extension_pending ON tickets (extension_pending, id);
{sqlite}CREATE INDEX tickets_category_l1 ON tickets (category_l1, id);
{sqlite}CREATE INDEX tickets_category_l2 ON tickets (category_l2, id);
{sqlite}CREATE INDEX tickets_division_county ON tickets (division_county, id);
{sqlite}CREATE INDEX tickets_division_street ON tickets (division_street, id);
{sqlite}CREATE INDEX tickets_wechat ON tickets (citizen_wechat, id);
"#,
    },
];

/// Migrations that SQLite runs with its foreign keys off: they copy a table others refer
/// to into a new one and drop the old, which with the keys on would delete its rows first
/// (refused, since other rows refer to them). The runner checks every key before the
/// commit and turns them on again.
pub const SQLITE_FOREIGN_KEYS_OFF: &[i64] = &[39];

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use mashangban_domain::kpi::Tally;

    #[test]
    fn the_aggregate_tables_hold_every_measure_in_order() {
        let sql = |v: i64| MIGRATIONS.iter().find(|m| m.version == v).unwrap().sql;
        // Both tables of the aggregates list the measures in the order of `Tally::FIELDS`
        // (the writers and readers bind them in that order).
        let created: Vec<&str> = sql(14)
            .lines()
            .filter(|l| l.ends_with("{big} NOT NULL DEFAULT 0,"))
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        let added = |table: &str| -> Vec<&str> {
            sql(22)
                .lines()
                .chain(sql(28).lines())
                .chain(sql(30).lines())
                .filter_map(|l| l.strip_prefix(&format!("ALTER TABLE {table} ADD COLUMN ")))
                .map(|l| l.split_whitespace().next().unwrap())
                .collect::<Vec<_>>()
        };
        let (facts, rollup) = created.split_at(created.len() / 2);
        let facts: Vec<&str> = facts.iter().copied().chain(added("kpi_facts")).collect();
        let rollup: Vec<&str> = rollup.iter().copied().chain(added("kpi_rollup")).collect();
        assert_eq!(facts, Tally::FIELDS);
        assert_eq!(rollup, Tally::FIELDS);
        // The month roll-ups were filled with every measure of the time (the later ones
        // by the rebuild after migration 22).
        let columns = Tally::FIELDS[..15].join(", ");
        assert!(sql(15).contains(&columns));
        let sums: Vec<String> = Tally::FIELDS[..15]
            .iter()
            .map(|c| format!("SUM({c})"))
            .collect();
        assert!(sql(15).contains(&sums.join(", ")));
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }
}
