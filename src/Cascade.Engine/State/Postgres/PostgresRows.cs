using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Npgsql;
using NpgsqlTypes;

namespace Cascade.Engine.State.Postgres;

/// <summary>
/// The one place where a <see cref="Run"/> maps to and from a PostgreSQL <c>runs</c> row, and where
/// values become parameters: times as <c>timestamptz</c> (UTC, microseconds), JSON as <c>text</c>
/// (ADR 21: byte for byte what SQLite stores), free text without U+0000 (which <c>text</c> refuses).
/// </summary>
internal static class PostgresRows
{
    public const string Columns =
        "r.job, r.partition, r.generation, r.state, r.attempt, r.failures, r.created_at, r.queued_at, r.activated_at, r.started_at, r.finished_at, r.next_retry_at, r.wait_deadline, r.cause, r.backfill, r.params, r.trigger_params, r.marker, r.exit_code, r.reason, r.warnings";

    public const string Upsert = """
        INSERT INTO runs (job, partition, generation, state, attempt, failures, created_at, queued_at, activated_at, started_at, finished_at, next_retry_at, wait_deadline, cause, backfill, params, trigger_params, marker, exit_code, reason, warnings)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
        ON CONFLICT (partition, job, generation) DO UPDATE SET
            state = excluded.state, attempt = excluded.attempt, failures = excluded.failures, queued_at = excluded.queued_at,
            activated_at = excluded.activated_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
            next_retry_at = excluded.next_retry_at, wait_deadline = excluded.wait_deadline, cause = excluded.cause, backfill = excluded.backfill, params = excluded.params,
            trigger_params = excluded.trigger_params, marker = excluded.marker, exit_code = excluded.exit_code,
            reason = excluded.reason, warnings = excluded.warnings;
        """;

    /// <summary>
    /// Runs first seen already done (a cold start may bring ~10^6): one statement over arrays, only
    /// the columns they use, each with its change number (ADR 14).
    /// </summary>
    public const string InsertSeenDone = """
        INSERT INTO runs (job, partition, generation, state, attempt, failures, created_at, finished_at, cause, params, trigger_params, marker, warnings, seen_seq)
        SELECT j, p, g, s, 0, 0, c::timestamptz, f::timestamptz, ca, '{}', '{}', m, w, q
        FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[]) AS t(j, p, g, s, c, f, ca, m, w, q)
        ON CONFLICT (partition, job, generation) DO UPDATE SET
            state = excluded.state, finished_at = excluded.finished_at, marker = excluded.marker, warnings = excluded.warnings, seen_seq = excluded.seen_seq;
        """;

    public static string StateName(RunState state) => state.Name();

    public static void Add(NpgsqlBatchCommand cmd, string? value) =>
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = value is null ? DBNull.Value : Text(value) });

    public static void Add(NpgsqlBatchCommand cmd, int value) => cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = value });

    public static void Add(NpgsqlBatchCommand cmd, int? value) =>
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = value is { } v ? v : DBNull.Value });

    public static void Add(NpgsqlBatchCommand cmd, long value) => cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = value });

    public static void Add(NpgsqlBatchCommand cmd, DateTimeOffset? value) =>
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } v ? v.UtcDateTime : DBNull.Value });

    /// <summary>PostgreSQL's <c>text</c> cannot hold U+0000: it becomes U+FFFD (JSON text escapes it and keeps it).</summary>
    public static string Text(string value) => value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', '\uFFFD') : value;

    /// <summary>A time as the text the array statements cast to <c>timestamptz</c>.</summary>
    public static string? TimeText(DateTimeOffset? value) => value?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    public static void Bind(NpgsqlBatchCommand cmd, Run run)
    {
        Add(cmd, run.Key.Job);
        Add(cmd, run.Key.Partition.Key);
        Add(cmd, run.Generation);
        Add(cmd, StateName(run.State));
        Add(cmd, run.Attempt);
        Add(cmd, run.Failures);
        Add(cmd, (DateTimeOffset?)run.CreatedAt);
        Add(cmd, run.QueuedAt);
        Add(cmd, run.ActivatedAt);
        Add(cmd, run.StartedAt);
        Add(cmd, run.FinishedAt);
        Add(cmd, run.NextRetryAt);
        Add(cmd, run.WaitDeadline);
        Add(cmd, run.Cause);
        Add(cmd, run.Backfill);
        Add(cmd, Json(run.Params));
        Add(cmd, Json(run.TriggerParams));
        Add(cmd, run.Marker?.ToJson());
        Add(cmd, run.ExitCode);
        Add(cmd, run.Reason);
        Add(cmd, Warnings(run.Warnings));
    }

    public static string Warnings(IReadOnlyList<string> warnings) =>
        warnings.Count == 0 ? "[]" : JsonSerializer.Serialize(warnings, EngineJson.Default.IReadOnlyListString);

    /// <summary>Reads a row; null when the row names a partition or state this version cannot read.</summary>
    public static Run? Read(NpgsqlDataReader r)
    {
        if (!Partition.TryParse(r.GetString(1), out var partition) || !RunStates.TryParse(r.GetString(3), out var state))
        {
            return null;
        }

        return new Run
        {
            Key = new RunKey(r.GetString(0), partition),
            Generation = r.GetInt32(2),
            State = state,
            Attempt = r.GetInt32(4),
            Failures = r.GetInt32(5),
            CreatedAt = Time(r, 6),
            QueuedAt = OptTime(r, 7),
            ActivatedAt = OptTime(r, 8),
            StartedAt = OptTime(r, 9),
            FinishedAt = OptTime(r, 10),
            NextRetryAt = OptTime(r, 11),
            WaitDeadline = OptTime(r, 12),
            Cause = OptText(r, 13),
            Backfill = OptText(r, 14),
            Params = Dict(r.GetString(15)),
            TriggerParams = Dict(r.GetString(16)),
            Marker = r.IsDBNull(17) ? null : MarkerBody.Parse(r.GetString(17)),
            ExitCode = r.IsDBNull(18) ? null : r.GetInt32(18),
            Reason = OptText(r, 19),
            Warnings = r.GetString(20) is "[]" ? [] : JsonSerializer.Deserialize(r.GetString(20), EngineJson.Default.ListString) ?? [],
        };
    }

    public static DateTimeOffset Time(NpgsqlDataReader r, int i) => new(DateTime.SpecifyKind(r.GetFieldValue<DateTime>(i), DateTimeKind.Utc));

    public static DateTimeOffset? OptTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Time(r, i);

    public static string? OptText(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static string Json(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? "{}" : JsonSerializer.Serialize(values, EngineJson.Default.IReadOnlyDictionaryStringString);

    public static IReadOnlyDictionary<string, string> Dict(string json) =>
        json is "{}" ? EmptyParams.Instance : new SortedDictionary<string, string>(JsonSerializer.Deserialize(json, EngineJson.Default.DictionaryStringString) ?? [], StringComparer.Ordinal);
}
