namespace Cascade.Engine.State.Sqlite;

/// <summary>The SQLite schema. Bump <see cref="Version"/> with every change and add a migration.</summary>
internal static class SqliteSchema
{
    public const int Version = 2;

    public const string Create = """
        CREATE TABLE IF NOT EXISTS meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS runs (
            job            TEXT    NOT NULL,
            partition      TEXT    NOT NULL,
            generation     INTEGER NOT NULL,
            state          TEXT    NOT NULL,
            attempt        INTEGER NOT NULL,
            failures       INTEGER NOT NULL,
            created_at     TEXT    NOT NULL,
            queued_at      TEXT,
            activated_at   TEXT,
            started_at     TEXT,
            finished_at    TEXT,
            next_retry_at  TEXT,
            wait_deadline  TEXT,
            cause          TEXT,
            backfill       TEXT,
            params         TEXT    NOT NULL,
            trigger_params TEXT    NOT NULL,
            marker         TEXT,
            exit_code      INTEGER,
            reason         TEXT,
            warnings       TEXT    NOT NULL,
            seen_seq       INTEGER,
            PRIMARY KEY (partition, job, generation)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS runs_by_backfill ON runs (backfill) WHERE backfill IS NOT NULL;

        CREATE TABLE IF NOT EXISTS attempts (
            job         TEXT    NOT NULL,
            partition   TEXT    NOT NULL,
            generation  INTEGER NOT NULL,
            attempt     INTEGER NOT NULL,
            started_at  TEXT    NOT NULL,
            finished_at TEXT,
            exit_code   INTEGER,
            outcome     TEXT,
            PRIMARY KEY (job, partition, generation, attempt)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS events (
            id         INTEGER PRIMARY KEY,
            at         TEXT    NOT NULL,
            job        TEXT    NOT NULL,
            partition  TEXT    NOT NULL,
            generation INTEGER NOT NULL,
            attempt    INTEGER NOT NULL,
            state      TEXT    NOT NULL,
            event      TEXT    NOT NULL,
            detail     TEXT,
            activated_at TEXT,
            finished_at  TEXT
        );
        CREATE INDEX IF NOT EXISTS events_by_run ON events (job, partition, id);

        CREATE TABLE IF NOT EXISTS seen_blocks (
            last_seq       INTEGER PRIMARY KEY,
            first_seq      INTEGER NOT NULL,
            from_partition TEXT    NOT NULL,
            to_partition   TEXT    NOT NULL
        );

        CREATE TABLE IF NOT EXISTS cursors (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS requests (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            kind      TEXT NOT NULL,
            job       TEXT,
            partition TEXT,
            params    TEXT NOT NULL,
            args      TEXT NOT NULL,
            taken_at  TEXT
        );
        CREATE INDEX IF NOT EXISTS requests_pending ON requests (taken_at, id);
        """;

    /// <summary>
    /// From each older version to the next, run in the open's write transaction after
    /// <see cref="Create"/> (which adds the tables a version brought). Version 2 (ADR 14): the change
    /// feed covers runs first seen done (<c>runs.seen_seq</c>, <c>seen_blocks</c>) and each history
    /// line keeps the run's times.
    /// </summary>
    /// <summary>Whether a file of this version is brought up to <see cref="Version"/> on a read-write open.</summary>
    public static bool CanMigrate(string version) =>
        int.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v < Version && Migrations.ContainsKey(v);

    public static readonly IReadOnlyDictionary<int, string> Migrations = new Dictionary<int, string>
    {
        [1] = """
            ALTER TABLE runs ADD COLUMN seen_seq INTEGER;
            ALTER TABLE events ADD COLUMN activated_at TEXT;
            ALTER TABLE events ADD COLUMN finished_at TEXT;
            """,
    };
}
