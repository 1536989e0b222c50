using System.Globalization;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Microsoft.Data.Sqlite;

namespace Cascade.Engine.State.Sqlite;

/// <summary>The one place where a <see cref="Run"/> maps to and from a <c>runs</c> row.</summary>
internal static class RunRows
{
    public const string Columns =
        "r.job, r.partition, r.generation, r.state, r.attempt, r.failures, r.created_at, r.queued_at, r.activated_at, r.started_at, r.finished_at, r.next_retry_at, r.wait_deadline, r.cause, r.backfill, r.params, r.trigger_params, r.marker, r.exit_code, r.reason, r.warnings";

    /// <summary>Inserts or updates a run; its values by position (<see cref="Bind"/>), in the order of <see cref="Columns"/>.</summary>
    public const string Upsert = """
        INSERT INTO runs (job, partition, generation, state, attempt, failures, created_at, queued_at, activated_at, started_at, finished_at, next_retry_at, wait_deadline, cause, backfill, params, trigger_params, marker, exit_code, reason, warnings)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
        ON CONFLICT (partition, job, generation) DO UPDATE SET
            state = excluded.state, attempt = excluded.attempt, failures = excluded.failures, queued_at = excluded.queued_at,
            activated_at = excluded.activated_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
            next_retry_at = excluded.next_retry_at, wait_deadline = excluded.wait_deadline, cause = excluded.cause, backfill = excluded.backfill, params = excluded.params,
            trigger_params = excluded.trigger_params, marker = excluded.marker, exit_code = excluded.exit_code,
            reason = excluded.reason, warnings = excluded.warnings;
        """;

    public static string StateName(RunState state) => state.Name();

    /// <summary>
    /// Runs first seen already done by their marker (a cold start reads up to ~10^6 of them): only
    /// the columns they use, many rows per statement, no history line. Each still gets a change
    /// number (<c>seen_seq</c>, after <paramref name="lastSeq"/>, in key order) and the numbers are
    /// returned as blocks, one per day touched: the change feed finds a block's runs by its
    /// partition range (the primary key) and its numbers, without an index on them (ADR 14).
    /// </summary>
    public static List<(long First, long Last, string From, string To)> InsertSeenDone(SqliteConnection connection, IReadOnlyList<Run> unsorted, long lastSeq)
    {
        // In key order, as the table stores it (text order of partition, job, generation):
        // appending to the B-tree instead of splitting pages all over it, and a block's change
        // numbers in the order a scan of its partition range reads them.
        var runs = unsorted.Select(r => (Partition: r.Key.Partition.Key, Run: r))
            .OrderBy(x => x.Partition, StringComparer.Ordinal).ThenBy(x => x.Run.Key.Job, StringComparer.Ordinal).ThenBy(x => x.Run.Generation).ToList();
        var blocks = new List<(long First, long Last, string From, string To)>();
        using var insert = new SeenDoneInsert(connection);
        for (var i = 0; i < runs.Count; i++)
        {
            var (partition, run) = runs[i];
            var seq = lastSeq + i + 1;
            if (blocks.Count > 0 && string.CompareOrdinal(blocks[^1].From, 0, partition, 0, 8) == 0)
            {
                blocks[^1] = blocks[^1] with { Last = seq, To = partition };
            }
            else
            {
                blocks.Add((seq, seq, partition, partition));
            }

            insert.Add(run, partition, seq);
        }

        insert.Flush();
        return blocks;
    }

    public static bool TryParseState(string name, out RunState state) => RunStates.TryParse(name, out state);

    public static void Bind(RawStatement cmd, Run run)
    {
        cmd.Text(1, run.Key.Job);
        cmd.Text(2, run.Key.Partition.Key);
        cmd.Int(3, run.Generation);
        cmd.Text(4, StateName(run.State));
        cmd.Int(5, run.Attempt);
        cmd.Int(6, run.Failures);
        cmd.Time(7, run.CreatedAt);
        cmd.Time(8, run.QueuedAt);
        cmd.Time(9, run.ActivatedAt);
        cmd.Time(10, run.StartedAt);
        cmd.Time(11, run.FinishedAt);
        cmd.Time(12, run.NextRetryAt);
        cmd.Time(13, run.WaitDeadline);
        cmd.Text(14, run.Cause);
        cmd.Text(15, run.Backfill);
        cmd.Text(16, Json(run.Params));
        cmd.Text(17, Json(run.TriggerParams));
        cmd.Text(18, run.Marker?.ToJson());
        cmd.Int(19, run.ExitCode);
        cmd.Text(20, run.Reason);
        cmd.Text(21, run.Warnings.Count == 0 ? "[]" : JsonSerializer.Serialize(run.Warnings, EngineJson.Default.IReadOnlyListString));
    }

    /// <summary>Reads a row; null when the row names a partition or state this version cannot read.</summary>
    public static Run? Read(SqliteDataReader r)
    {
        if (!Partition.TryParse(r.GetString(1), out var partition) || !TryParseState(r.GetString(3), out var state))
        {
            return null;
        }

        static DateTimeOffset? Opt(SqliteDataReader r, int i) =>
            r.IsDBNull(i) ? null : DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture);

        return new Run
        {
            Key = new RunKey(r.GetString(0), partition),
            Generation = r.GetInt32(2),
            State = state,
            Attempt = r.GetInt32(4),
            Failures = r.GetInt32(5),
            CreatedAt = DateTimeOffset.Parse(r.GetString(6), CultureInfo.InvariantCulture),
            QueuedAt = Opt(r, 7),
            ActivatedAt = Opt(r, 8),
            StartedAt = Opt(r, 9),
            FinishedAt = Opt(r, 10),
            NextRetryAt = Opt(r, 11),
            WaitDeadline = Opt(r, 12),
            Cause = r.IsDBNull(13) ? null : r.GetString(13),
            Backfill = r.IsDBNull(14) ? null : r.GetString(14),
            Params = Dict(r.GetString(15)),
            TriggerParams = Dict(r.GetString(16)),
            Marker = r.IsDBNull(17) ? null : MarkerBody.Parse(r.GetString(17)),
            ExitCode = r.IsDBNull(18) ? null : r.GetInt32(18),
            Reason = r.IsDBNull(19) ? null : r.GetString(19),
            Warnings = r.GetString(20) is "[]" ? [] : JsonSerializer.Deserialize(r.GetString(20), EngineJson.Default.ListString) ?? [],
        };
    }

    private static string Json(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? "{}" : JsonSerializer.Serialize(values, EngineJson.Default.IReadOnlyDictionaryStringString);

    // The common empty case skips the serializer: its first use costs a read command tens of milliseconds.
    private static IReadOnlyDictionary<string, string> Dict(string json) =>
        json is "{}" ? EmptyParams.Instance : new SortedDictionary<string, string>(JsonSerializer.Deserialize(json, EngineJson.Default.DictionaryStringString) ?? [], StringComparer.Ordinal);
}
