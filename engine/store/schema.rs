//! The database file: connection settings and the schema, versioned with `user_version`.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Each entry moves the schema one version up; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: events, their delivery ids, runs and logs.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        listener TEXT NOT NULL,
        delivery_id TEXT,
        received_ms INTEGER NOT NULL,
        request_uri TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        state TEXT NOT NULL,
        duplicate_of TEXT,
        outcomes TEXT,
        processed_ms INTEGER
    );
    CREATE INDEX events_state ON events(state);
    CREATE TABLE deliveries (
        listener TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (listener, delivery_id, body_sha256)
    );
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        event_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        object TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT,
        tasks TEXT,
        graph TEXT,
        updated_ms INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        finished_ms INTEGER
    );
    CREATE INDEX runs_state ON runs(state);
    CREATE INDEX runs_event ON runs(event_id);
    CREATE TABLE logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run TEXT NOT NULL,
        task TEXT NOT NULL,
        step TEXT NOT NULL,
        stream TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX logs_run ON logs(run, seq);",
    // 2: local runs of `adze run` beside served ones. A run is found by `id` (a served
    // run's name; `<name>@<seq>` for a local run, whose name repeats with every run of the
    // same file); `origin` says which; `invocation` holds what a local run was given (files,
    // params); `run_events` holds what happened during a run, as JSON. `logs.run` is the id.
    "CREATE TABLE runs_v2 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        origin TEXT NOT NULL,
        event_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        invocation TEXT,
        object TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT,
        tasks TEXT,
        graph TEXT,
        updated_ms INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        finished_ms INTEGER
    );
    INSERT INTO runs_v2 (seq, id, name, kind, namespace, origin, event_id, trigger, object,
        state, status, tasks, graph, updated_ms, created_ms, started_ms, finished_ms)
    SELECT seq, name, name, kind, namespace, 'serve', event_id, trigger, object,
        state, status, tasks, graph, updated_ms, created_ms, started_ms, finished_ms FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v2 RENAME TO runs;
    CREATE INDEX runs_state ON runs(state);
    CREATE INDEX runs_event ON runs(event_id);
    CREATE INDEX runs_name ON runs(name, seq);
    CREATE INDEX runs_origin ON runs(origin, seq);
    CREATE TABLE run_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        event TEXT NOT NULL
    );
    CREATE INDEX run_events_run ON run_events(run, seq);",
    // 3: the `adze` process that runs a local run (its ownership labels, as JSON), so a run
    // whose adze was killed can be told from one still running.
    "ALTER TABLE runs ADD COLUMN owner TEXT;",
];

/// Opens a connection with the settings every connection needs.
pub(super) fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk (through power loss) before the writer answers.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The schema version this adze writes.
pub(super) const LATEST: i64 = MIGRATIONS.len() as i64;

/// The schema version of the file.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Applies the migrations the file has not seen yet.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate_to(conn, LATEST)
}

/// Applies the migrations the file has not seen yet, up to version `target`: tests build a
/// file of an older version with it.
pub(super) fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    let version = version(conn)?;
    let tx = conn.transaction()?;
    let pending = MIGRATIONS
        .iter()
        .enumerate()
        .take(target.max(0) as usize)
        .skip(version.max(0) as usize);
    for (i, sql) in pending {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()
}
