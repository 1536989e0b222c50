namespace Cascade.Engine.State.Postgres;

/// <summary>
/// The PostgreSQL schema as versioned migrations (ADR 21): each is applied once, in order, in the
/// transaction of <see cref="PostgresMigrator"/>, and recorded as a row of <c>schema_version</c>.
/// Never edit a released migration; add the next one. Keys and state names are <c>COLLATE "C"</c>:
/// the change feed reads a block of runs in key order as its change numbers' order (ADR 14), which
/// must be the bytes' order whatever the database's collation is.
/// </summary>
internal static class PostgresSchema
{
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "runs, attempts, history, change feed, cursors and requests", """
            CREATE TABLE runs (
                job            text COLLATE "C" NOT NULL,
                partition      text COLLATE "C" NOT NULL,
                generation     integer     NOT NULL,
                state          text COLLATE "C" NOT NULL,
                attempt        integer     NOT NULL,
                failures       integer     NOT NULL,
                created_at     timestamptz NOT NULL,
                queued_at      timestamptz,
                activated_at   timestamptz,
                started_at     timestamptz,
                finished_at    timestamptz,
                next_retry_at  timestamptz,
                wait_deadline  timestamptz,
                cause          text,
                backfill       text COLLATE "C",
                params         text        NOT NULL,
                trigger_params text        NOT NULL,
                marker         text,
                exit_code      integer,
                reason         text,
                warnings       text        NOT NULL,
                seen_seq       bigint,
                PRIMARY KEY (partition, job, generation)
            );
            CREATE INDEX runs_by_backfill ON runs (backfill) WHERE backfill IS NOT NULL;

            CREATE TABLE attempts (
                job         text COLLATE "C" NOT NULL,
                partition   text COLLATE "C" NOT NULL,
                generation  integer     NOT NULL,
                attempt     integer     NOT NULL,
                started_at  timestamptz NOT NULL,
                finished_at timestamptz,
                exit_code   integer,
                outcome     text,
                node        text,
                PRIMARY KEY (job, partition, generation, attempt)
            );

            CREATE TABLE events (
                id           bigint      PRIMARY KEY,
                at           timestamptz NOT NULL,
                job          text COLLATE "C" NOT NULL,
                partition    text COLLATE "C" NOT NULL,
                generation   integer     NOT NULL,
                attempt      integer     NOT NULL,
                state        text COLLATE "C" NOT NULL,
                event        text        NOT NULL,
                detail       text,
                activated_at timestamptz,
                finished_at  timestamptz
            );
            CREATE INDEX events_by_run ON events (job, partition, id);

            CREATE TABLE seen_blocks (
                last_seq       bigint PRIMARY KEY,
                first_seq      bigint NOT NULL,
                from_partition text COLLATE "C" NOT NULL,
                to_partition   text COLLATE "C" NOT NULL
            );

            CREATE TABLE cursors (
                name  text COLLATE "C" PRIMARY KEY,
                value text NOT NULL
            );

            CREATE TABLE requests (
                id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at        timestamptz NOT NULL,
                kind      text NOT NULL,
                job       text COLLATE "C",
                partition text COLLATE "C",
                params    text NOT NULL,
                args      text NOT NULL,
                taken_at  timestamptz
            );
            CREATE INDEX requests_pending ON requests (id) WHERE taken_at IS NULL;

            CREATE TABLE change_counter (
                one      boolean PRIMARY KEY DEFAULT true CHECK (one),
                last_seq bigint  NOT NULL
            );
            INSERT INTO change_counter (last_seq) VALUES (0);
            """),
    ];

    /// <summary>The newest version this Cascade knows.</summary>
    public static int Latest => Migrations[^1].Version;

    /// <summary>Our tables, for refusing a schema that has some of them but no <c>schema_version</c>.</summary>
    public static readonly string[] Tables = ["runs", "attempts", "events", "seen_blocks", "cursors", "requests", "change_counter"];

    public sealed record Migration(int Version, string Description, string Sql);
}
