using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Npgsql;
using NpgsqlTypes;

namespace Cascade.Engine.State.Postgres;

/// <summary>
/// State in a PostgreSQL database (ADR 21), on a pool of connections (<see cref="NpgsqlDataSource"/>,
/// slim builder for Native AOT). The schema is brought up to date when the store opens. Every
/// <see cref="CommitAsync"/> is one transaction sent as one batch (group commit), its change numbers
/// taken from a counter row updated in that transaction, so they are handed out in commit order.
/// Safe for concurrent callers; every database error is a <see cref="StateStoreException"/> that
/// names the state without its password.
/// </summary>
public sealed partial class PostgresRunStore : IStateStore
{
    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;

    private PostgresRunStore(NpgsqlDataSource source, TimeProvider time, string shown)
    {
        _source = source;
        _time = time;
        Shown = shown;
    }

    /// <summary>The state as people see it: <c>postgres:Host=…;Password=***</c>.</summary>
    public string Shown { get; }

    /// <summary>Opens the database the settings name (<c>${NAME}</c> expanded from <paramref name="environment"/>) and applies the missing migrations.</summary>
    public static async Task<PostgresRunStore> OpenAsync(StateSettings.Postgres settings, TimeProvider time, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var (source, shown) = Build(settings, environment);
        try
        {
            await PostgresMigrator.MigrateAsync(source, shown, cancellationToken);
            return new PostgresRunStore(source, time, shown);
        }
        catch (Exception e) when (PostgresErrors.IsDatabase(e))
        {
            await source.DisposeAsync();
            throw PostgresErrors.Describe(shown, "cannot open", e);
        }
        catch
        {
            await source.DisposeAsync();
            throw;
        }
    }

    /// <summary>Applies the missing migrations and says which (<c>cascade migrate</c>).</summary>
    public static async Task<MigrationResult> MigrateAsync(StateSettings.Postgres settings, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var (source, shown) = Build(settings, environment);
        await using (source)
        {
            try
            {
                return await PostgresMigrator.MigrateAsync(source, shown, cancellationToken);
            }
            catch (Exception e) when (PostgresErrors.IsDatabase(e))
            {
                throw PostgresErrors.Describe(shown, "cannot migrate", e);
            }
        }
    }

    private static (NpgsqlDataSource Source, string Shown) Build(StateSettings.Postgres settings, Func<string, string?> environment)
    {
        var expanded = PostgresConnection.Expand(settings.ConnectionString, environment);
        var builder = new NpgsqlSlimDataSourceBuilder(expanded);
        builder.EnableArrays();
        var cs = builder.ConnectionStringBuilder;

        // The statements of a commit are the same every time: prepared once per pooled connection.
        if (cs.MaxAutoPrepare == 0)
        {
            cs.MaxAutoPrepare = 32;
        }

        cs.ApplicationName ??= "cascade";
        cs.IncludeErrorDetail = false;
        return (builder.Build(), settings.Shown);
    }

    public async ValueTask<SchedulerSnapshot> LoadAsync(CancellationToken cancellationToken) =>
        new(await QueryRunsAsync(new RunQuery { Limit = int.MaxValue }, cancellationToken), await GetCursorsAsync(cancellationToken));

    public async ValueTask<IReadOnlyDictionary<string, string>> GetCursorsAsync(CancellationToken cancellationToken)
    {
        var rows = await ReadAsync("SELECT name, value FROM cursors ORDER BY name;", _ => { }, r => (r.GetString(0), r.GetString(1)), cancellationToken);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in rows)
        {
            result[name] = value;
        }

        return result;
    }

    public async ValueTask CommitAsync(IReadOnlyList<SchedulerEffect.RunChanged> changes, IReadOnlyList<SchedulerEffect.CursorMoved> cursors, IReadOnlyList<long> takenRequests, CancellationToken cancellationToken)
    {
        if (changes.Count == 0 && cursors.Count == 0 && takenRequests.Count == 0)
        {
            return;
        }

        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);

            // A run changed several times in one batch (queued, then started) is written once, as it ended up.
            var last = new Dictionary<(RunKey, int), int>(changes.Count);
            for (var i = 0; i < changes.Count; i++)
            {
                last[(changes[i].Run.Key, changes[i].Run.Generation)] = i;
            }

            var seenDone = new List<Run>();
            var numbered = 0;
            for (var i = 0; i < changes.Count; i++)
            {
                if (!changes[i].Quiet)
                {
                    numbered++;
                }
                else if (last[(changes[i].Run.Key, changes[i].Run.Generation)] == i)
                {
                    seenDone.Add(changes[i].Run);
                }
            }

            // The change numbers (ADR 14, 18): the counter row stays locked until this transaction
            // ends, so a later commit waits and numbers only grow in commit order.
            var seq = 0L;
            if (numbered + seenDone.Count > 0)
            {
                await using var counter = new NpgsqlCommand("UPDATE change_counter SET last_seq = last_seq + $1 RETURNING last_seq - $1;", connection, tx);
                counter.Parameters.Add(new NpgsqlParameter<long> { TypedValue = numbered + seenDone.Count });
                seq = (long)(await counter.ExecuteScalarAsync(cancellationToken))!;
            }

            await using var batch = new NpgsqlBatch(connection, tx);
            seq = AddSeenDone(batch, seenDone, seq);
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                var run = change.Run;
                if (change.Quiet)
                {
                    continue;
                }

                if (last[(run.Key, run.Generation)] == i)
                {
                    var upsert = new NpgsqlBatchCommand(PostgresRows.Upsert);
                    PostgresRows.Bind(upsert, run);
                    batch.BatchCommands.Add(upsert);
                }

                var at = EventTime(change);
                var evt = new NpgsqlBatchCommand("INSERT INTO events (id, at, job, partition, generation, attempt, state, event, detail, activated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);");
                PostgresRows.Add(evt, ++seq);
                PostgresRows.Add(evt, (DateTimeOffset?)at);
                AddKey(evt, run);
                PostgresRows.Add(evt, PostgresRows.StateName(run.State));
                PostgresRows.Add(evt, change.Event);
                PostgresRows.Add(evt, change.Detail);
                PostgresRows.Add(evt, run.ActivatedAt);
                PostgresRows.Add(evt, run.FinishedAt);
                batch.BatchCommands.Add(evt);

                if (change.Event == "started")
                {
                    var start = new NpgsqlBatchCommand("""
                        INSERT INTO attempts (job, partition, generation, attempt, started_at) VALUES ($1, $2, $3, $4, $5)
                        ON CONFLICT (job, partition, generation, attempt) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, exit_code = NULL, outcome = NULL;
                        """);
                    AddKey(start, run);
                    PostgresRows.Add(start, (DateTimeOffset?)at);
                    batch.BatchCommands.Add(start);
                }
                else if (run.Attempt > 0 && change.Event is "succeeded" or "retry" or "failed" or "interrupted" or "timed_out" or "exited" or "cancelled" or "superseded")
                {
                    var finish = new NpgsqlBatchCommand("UPDATE attempts SET finished_at = $5, exit_code = $6, outcome = $7 WHERE job = $1 AND partition = $2 AND generation = $3 AND attempt = $4 AND finished_at IS NULL;");
                    AddKey(finish, run);
                    PostgresRows.Add(finish, (DateTimeOffset?)at);
                    PostgresRows.Add(finish, run.ExitCode);
                    PostgresRows.Add(finish, change.Event == "retry" ? "failed" : change.Event);
                    batch.BatchCommands.Add(finish);
                }
            }

            foreach (var cursor in cursors)
            {
                var cmd = new NpgsqlBatchCommand(cursor.Value is null
                    ? "DELETE FROM cursors WHERE name = $1;"
                    : "INSERT INTO cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value;");
                PostgresRows.Add(cmd, cursor.Name);
                if (cursor.Value is { } value)
                {
                    PostgresRows.Add(cmd, value);
                }

                batch.BatchCommands.Add(cmd);
            }

            if (takenRequests.Count > 0)
            {
                var take = new NpgsqlBatchCommand("UPDATE requests SET taken_at = $1 WHERE taken_at IS NULL AND id = ANY($2);");
                PostgresRows.Add(take, (DateTimeOffset?)_time.GetUtcNow());
                take.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = takenRequests.ToArray() });
                batch.BatchCommands.Add(take);
            }

            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (PostgresErrors.IsDatabase(e))
        {
            throw PostgresErrors.Describe(Shown, "cannot write", e);
        }
    }

    /// <summary>
    /// Runs first seen done: numbered after <paramref name="seq"/> in key order (byte order of
    /// partition, job, then generation: the feed's scan order, ADR 14), one block per day touched.
    /// </summary>
    private static long AddSeenDone(NpgsqlBatch batch, List<Run> unsorted, long seq)
    {
        if (unsorted.Count == 0)
        {
            return seq;
        }

        var runs = unsorted.OrderBy(r => r.Key.Partition.Key, StringComparer.Ordinal).ThenBy(r => r.Key.Job, StringComparer.Ordinal).ThenBy(r => r.Generation).ToList();
        var n = runs.Count;
        var jobs = new string[n];
        var partitions = new string[n];
        var generations = new int[n];
        var states = new string[n];
        var created = new string?[n];
        var finished = new string?[n];
        var causes = new string?[n];
        var markers = new string?[n];
        var warnings = new string[n];
        var seqs = new long[n];
        var blocks = new List<(long First, long Last, string From, string To)>();
        for (var i = 0; i < n; i++)
        {
            var run = runs[i];
            var partition = run.Key.Partition.Key;
            var number = seq + i + 1;
            if (blocks.Count > 0 && string.CompareOrdinal(blocks[^1].From, 0, partition, 0, 8) == 0)
            {
                blocks[^1] = blocks[^1] with { Last = number, To = partition };
            }
            else
            {
                blocks.Add((number, number, partition, partition));
            }

            jobs[i] = run.Key.Job;
            partitions[i] = partition;
            generations[i] = run.Generation;
            states[i] = PostgresRows.StateName(run.State);
            created[i] = PostgresRows.TimeText(run.CreatedAt);
            finished[i] = PostgresRows.TimeText(run.FinishedAt);
            causes[i] = run.Cause is { } c ? PostgresRows.Text(c) : null;
            markers[i] = run.Marker?.ToJson();
            warnings[i] = PostgresRows.Warnings(run.Warnings);
            seqs[i] = number;
        }

        var insert = new NpgsqlBatchCommand(PostgresRows.InsertSeenDone);
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = jobs });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = partitions });
        insert.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = generations });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = states });
        insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = created });
        insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = finished });
        insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = causes });
        insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = markers });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = warnings });
        insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = seqs });
        batch.BatchCommands.Add(insert);
        foreach (var (first, lastInBlock, from, to) in blocks)
        {
            var block = new NpgsqlBatchCommand("INSERT INTO seen_blocks (last_seq, first_seq, from_partition, to_partition) VALUES ($1, $2, $3, $4);");
            PostgresRows.Add(block, lastInBlock);
            PostgresRows.Add(block, first);
            PostgresRows.Add(block, from);
            PostgresRows.Add(block, to);
            batch.BatchCommands.Add(block);
        }

        return seq + n;
    }

    private static void AddKey(NpgsqlBatchCommand cmd, Run run)
    {
        PostgresRows.Add(cmd, run.Key.Job);
        PostgresRows.Add(cmd, run.Key.Partition.Key);
        PostgresRows.Add(cmd, run.Generation);
        PostgresRows.Add(cmd, run.Attempt);
    }

    private static DateTimeOffset EventTime(SchedulerEffect.RunChanged change) => change.At ?? change.Event switch
    {
        "started" => change.Run.StartedAt ?? change.Run.CreatedAt,
        "queued" => change.Run.QueuedAt ?? change.Run.CreatedAt,
        "succeeded" or "failed" => change.Run.FinishedAt ?? change.Run.CreatedAt,
        "waiting" => change.Run.CreatedAt,
        _ => change.Run.FinishedAt ?? change.Run.QueuedAt ?? change.Run.StartedAt ?? change.Run.CreatedAt,
    };

    public async ValueTask<long> EnqueueRequestAsync(Request request, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(
            "INSERT INTO requests (at, kind, job, partition, params, args) VALUES (@at, @kind, @job, @partition, @params, @args) RETURNING id;",
            p =>
            {
                p.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = request.At.UtcDateTime });
                p.Add(new NpgsqlParameter("kind", NpgsqlDbType.Text) { Value = request.Kind });
                p.Add(new NpgsqlParameter("job", NpgsqlDbType.Text) { Value = (object?)request.Key?.Job ?? DBNull.Value });
                p.Add(new NpgsqlParameter("partition", NpgsqlDbType.Text) { Value = (object?)request.Key?.Partition.Key ?? DBNull.Value });
                p.Add(new NpgsqlParameter("params", NpgsqlDbType.Text) { Value = JsonSerializer.Serialize(request.Params, EngineJson.Default.IReadOnlyDictionaryStringString) });
                p.Add(new NpgsqlParameter("args", NpgsqlDbType.Text) { Value = JsonSerializer.Serialize(request.Args, EngineJson.Default.IReadOnlyDictionaryStringString) });
            },
            r => r.GetInt64(0),
            cancellationToken,
            "cannot write");
        return rows[0];
    }

    public async ValueTask<bool> IsRequestTakenAsync(long id, CancellationToken cancellationToken) =>
        (await ReadAsync("SELECT taken_at IS NOT NULL FROM requests WHERE id = @id;", p => p.Add(new NpgsqlParameter<long>("id", id)), r => r.GetBoolean(0), cancellationToken)) is [true];

    public async ValueTask<IReadOnlyList<Request>> PendingRequestsAsync(CancellationToken cancellationToken) =>
        await ReadAsync(
            "SELECT id, at, kind, job, partition, params, args FROM requests WHERE taken_at IS NULL ORDER BY id;",
            _ => { },
            r =>
            {
                RunKey? key = !r.IsDBNull(3) && Partition.TryParse(r.IsDBNull(4) ? null : r.GetString(4), out var partition)
                    ? new RunKey(r.GetString(3), partition)
                    : null;
                return new Request(
                    r.GetString(2),
                    key,
                    JsonSerializer.Deserialize(r.GetString(5), EngineJson.Default.DictionaryStringString) ?? [],
                    PostgresRows.Time(r, 1))
                {
                    Id = r.GetInt64(0),
                    Args = JsonSerializer.Deserialize(r.GetString(6), EngineJson.Default.DictionaryStringString) ?? [],
                };
            },
            cancellationToken);

    public async ValueTask<IReadOnlyList<Run>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        void Where(string clause, string name, string value)
        {
            where.Add(clause);
            parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = value });
        }

        if (query.Job is not null)
        {
            Where("r.job = @job", "job", query.Job);
        }

        if (query.Partition is not null)
        {
            Where("r.partition = @partition", "partition", query.Partition);
        }

        if (query.State is { } state)
        {
            Where("r.state = @state", "state", PostgresRows.StateName(state));
        }

        if (query.Backfill is not null)
        {
            Where("r.backfill = @backfill", "backfill", query.Backfill);
        }

        if (query.From is not null)
        {
            Where("r.partition >= @from", "from", query.From);
        }

        if (query.To is not null)
        {
            // A daily key takes its hours too: 20190312 ≤ 2019031223 ≤ 2019031299.
            Where("r.partition <= @to", "to", query.To.Length == 8 ? query.To + "99" : query.To);
        }

        if (query.NewestFirst && query.After is var (afterPartition, afterJob))
        {
            Where("(r.partition < @after_partition OR (r.partition = @after_partition AND r.job > @after_job))", "after_partition", afterPartition);
            parameters.Add(new NpgsqlParameter("after_job", NpgsqlDbType.Text) { Value = afterJob });
        }

        if (!query.AllGenerations)
        {
            where.Add("r.generation = (SELECT MAX(g.generation) FROM runs g WHERE g.job = r.job AND g.partition = r.partition)");
        }

        where.Add("true");
        var order = query.NewestFirst ? "ORDER BY r.partition DESC, r.job, r.generation DESC" : "ORDER BY r.partition, r.job, r.generation";
        var rows = await ReadAsync(
            $"SELECT {PostgresRows.Columns} FROM runs r WHERE {string.Join(" AND ", where)} {order} LIMIT @limit;",
            p =>
            {
                p.AddRange(parameters.ToArray());
                p.Add(new NpgsqlParameter<long>("limit", query.Limit));
            },
            PostgresRows.Read,
            cancellationToken);
        return rows.OfType<Run>().ToList();
    }

    public async ValueTask<Run?> GetRunAsync(RunKey key, CancellationToken cancellationToken)
    {
        var runs = await QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key }, cancellationToken);
        return runs.Count > 0 ? runs[0] : null;
    }

    public ValueTask<IReadOnlyList<RunEvent>> GetEventsAsync(RunKey key, CancellationToken cancellationToken) =>
        ReadByKeyAsync(
            "SELECT at, generation, attempt, state, event, detail FROM events WHERE job = @job AND partition = @partition ORDER BY id;",
            key,
            r => new RunEvent(PostgresRows.Time(r, 0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetString(4), PostgresRows.OptText(r, 5)),
            cancellationToken);

    public ValueTask<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(RunKey key, CancellationToken cancellationToken) =>
        ReadByKeyAsync(
            "SELECT generation, attempt, started_at, finished_at, exit_code, outcome FROM attempts WHERE job = @job AND partition = @partition ORDER BY generation, attempt;",
            key,
            r => new AttemptRecord(r.GetInt32(0), r.GetInt32(1), PostgresRows.Time(r, 2), PostgresRows.OptTime(r, 3), r.IsDBNull(4) ? null : r.GetInt32(4), PostgresRows.OptText(r, 5)),
            cancellationToken);

    private ValueTask<IReadOnlyList<T>> ReadByKeyAsync<T>(string sql, RunKey key, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        ReadAsync(
            sql,
            p =>
            {
                p.Add(new NpgsqlParameter("job", NpgsqlDbType.Text) { Value = key.Job });
                p.Add(new NpgsqlParameter("partition", NpgsqlDbType.Text) { Value = key.Partition.Key });
            },
            read,
            cancellationToken);

    public async ValueTask<IReadOnlyList<RunCount>> CountRunsAsync(CancellationToken cancellationToken) =>
        await ReadAsync(
            "SELECT job, state, count(*) FROM (SELECT DISTINCT ON (partition, job) job, state FROM runs ORDER BY partition, job, generation DESC) l GROUP BY job, state ORDER BY job, state;",
            _ => { },
            r => new RunCount(r.GetString(0), r.GetString(1), r.GetInt64(2)),
            cancellationToken);

    public async ValueTask<RequestStatus?> GetRequestAsync(long id, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(
            "SELECT id, kind, job, partition, at, taken_at FROM requests WHERE id = @id;",
            p => p.Add(new NpgsqlParameter<long>("id", id)),
            r => new RequestStatus(r.GetInt64(0), r.GetString(1), PostgresRows.OptText(r, 2), PostgresRows.OptText(r, 3), PostgresRows.Time(r, 4), PostgresRows.OptTime(r, 5)),
            cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }

    public async ValueTask<IReadOnlyList<RunCell>> RunCellsAsync(string fromKey, string toKey, CancellationToken cancellationToken) =>
        await ReadAsync(
            "SELECT DISTINCT ON (partition, job) job, partition, state FROM runs WHERE partition >= @from AND partition <= @to ORDER BY partition, job, generation DESC;",
            p =>
            {
                p.Add(new NpgsqlParameter("from", NpgsqlDbType.Text) { Value = fromKey });
                p.Add(new NpgsqlParameter("to", NpgsqlDbType.Text) { Value = toKey.Length == 8 ? toKey + "99" : toKey });
            },
            r => new RunCell(r.GetString(0), r.GetString(1), r.GetString(2)),
            cancellationToken);

    public async ValueTask<string?> LatestPartitionAsync(CancellationToken cancellationToken) =>
        (await ReadAsync("SELECT MAX(partition) FROM runs;", _ => { }, r => PostgresRows.OptText(r, 0), cancellationToken))[0];

    private async ValueTask<IReadOnlyList<T>> ReadAsync<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, string doing = "cannot read")
    {
        try
        {
            await using var cmd = _source.CreateCommand(sql);
            bind(cmd.Parameters);
            var result = new List<T>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result.Add(read(reader));
            }

            return result;
        }
        catch (Exception e) when (PostgresErrors.IsDatabase(e))
        {
            throw PostgresErrors.Describe(Shown, doing, e);
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
