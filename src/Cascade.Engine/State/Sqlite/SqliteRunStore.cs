using System.Globalization;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Files;
using Microsoft.Data.Sqlite;

namespace Cascade.Engine.State.Sqlite;

/// <summary>
/// State in one SQLite file (WAL, <c>synchronous=NORMAL</c>): a committed transaction survives a
/// crash of the process; a power loss may lose the last transactions, which the marker rescan and
/// at-least-once recovery make good. One connection, used by one caller at a time.
/// </summary>
public sealed class SqliteRunStore : IStateStore
{
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private CommitStatements? _commitStatements;

    private readonly string _path;
    private readonly FileIdentity? _identity;

    private SqliteRunStore(SqliteConnection connection, TimeProvider time, string path)
    {
        _connection = connection;
        _time = time;
        _path = path;
        _identity = UnixFile.IsSupported ? UnixFile.Stat(path, out _)?.Identity : null;
    }

    /// <summary>
    /// Opens an existing database for a command that only reads (status, why, logs, history):
    /// no schema script and no write transaction, just the version check. A state that cannot be
    /// written (a read-only file, folder or file system, a full disk) is opened read-only, and last
    /// as immutable. Falls back to <see cref="OpenAsync"/> when the file does not exist yet.
    /// </summary>
    public static async Task<SqliteRunStore> OpenForReadingAsync(string path, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return await OpenAsync(path, time, cancellationToken);
        }

        RefuseEmpty(full);
        SqliteException? first = null;
        foreach (var source in ReadingSources(full))
        {
            var connection = new SqliteConnection(source);
            try
            {
                await connection.OpenAsync(cancellationToken);
                await ExecAsync(connection, "PRAGMA busy_timeout = 10000;", cancellationToken);
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = "SELECT value FROM meta WHERE key = 'schema_version';";
                var found = await cmd.ExecuteScalarAsync(cancellationToken) as string;
                if (found == SqliteSchema.Version.ToString(CultureInfo.InvariantCulture))
                {
                    return new SqliteRunStore(connection, time, full);
                }

                await connection.DisposeAsync();
                return found is null || SqliteSchema.CanMigrate(found)
                    ? await OpenAsync(path, time, cancellationToken) // creates the schema or migrates it
                    : throw VersionMismatch(full, found);
            }
            catch (SqliteException e) when (SqliteErrors.MayReadOnly(e))
            {
                await connection.DisposeAsync();
                first ??= e;
            }
            catch (SqliteException)
            {
                // a half-created or foreign file: the full open says what is wrong, or repairs the schema
                await connection.DisposeAsync();
                return await OpenAsync(path, time, cancellationToken);
            }
        }

        throw SqliteErrors.Describe(full, "cannot read", first!);
    }

    /// <summary>Read-write, then read-only, then immutable (no -wal or -shm needed, for a read-only folder).</summary>
    private static IEnumerable<string> ReadingSources(string full)
    {
        yield return new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        yield return new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        yield return new SqliteConnectionStringBuilder { DataSource = new Uri(full).AbsoluteUri + "?immutable=1", Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
    }

    /// <summary>Opens (creating if needed) the database and checks its schema version.</summary>
    public static async Task<SqliteRunStore> OpenAsync(string path, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            await CreateAsync(full, cancellationToken);
        }
        else
        {
            RefuseEmpty(full);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecAsync(connection, "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;", cancellationToken);
            await using (var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken))
            {
                await using var cmd = connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = SqliteSchema.Create + "SELECT value FROM meta WHERE key = 'schema_version';";
                var found = await cmd.ExecuteScalarAsync(cancellationToken) as string;
                if (found is null)
                {
                    cmd.CommandText = "INSERT INTO meta (key, value) VALUES ('schema_version', $v);";
                    cmd.Parameters.AddWithValue("$v", SqliteSchema.Version.ToString(CultureInfo.InvariantCulture));
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                else if (SqliteSchema.CanMigrate(found))
                {
                    for (var version = int.Parse(found, CultureInfo.InvariantCulture); version < SqliteSchema.Version; version++)
                    {
                        cmd.CommandText = SqliteSchema.Migrations[version];
                        await cmd.ExecuteNonQueryAsync(cancellationToken);
                    }

                    cmd.CommandText = "UPDATE meta SET value = $v WHERE key = 'schema_version';";
                    cmd.Parameters.AddWithValue("$v", SqliteSchema.Version.ToString(CultureInfo.InvariantCulture));
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                else if (found != SqliteSchema.Version.ToString(CultureInfo.InvariantCulture))
                {
                    throw VersionMismatch(full, found);
                }

                await tx.CommitAsync(cancellationToken);
            }

            return new SqliteRunStore(connection, time, full);
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync();
            throw SqliteErrors.Describe(full, "cannot open", e);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates or migrates the file (<c>cascade migrate</c>) and says which versions it applied: the
    /// creation of a new file counts as every version up to the current one.
    /// </summary>
    public static async Task<MigrationResult> MigrateAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        var from = 0;
        if (File.Exists(full) && new FileInfo(full).Length > 0)
        {
            try
            {
                await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
                await connection.OpenAsync(cancellationToken);
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = "SELECT value FROM meta WHERE key = 'schema_version';";
                from = await cmd.ExecuteScalarAsync(cancellationToken) is string v && int.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0;
            }
            catch (SqliteException)
            {
                // the full open below says what is wrong with the file
            }
        }

        await (await OpenAsync(full, TimeProvider.System, cancellationToken)).DisposeAsync();
        var applied = new List<(int, string)>();
        for (var version = Math.Max(from, 0) + 1; version <= SqliteSchema.Version; version++)
        {
            applied.Add((version, version == 1 ? "runs, attempts, history, cursors and requests" : "the change feed covers runs first seen done (ADR 14)"));
        }

        return new MigrationResult(from, SqliteSchema.Version, from == 0 ? [(SqliteSchema.Version, "a new state file")] : applied);
    }

    /// <summary>
    /// A new state file appears whole: built under a temporary name (schema, version, WAL mode set in
    /// its header), flushed to disk once and renamed into place. So a state file Cascade made is never
    /// empty, and an empty one is not Cascade's: see <see cref="RefuseEmpty"/>. The temporary file is
    /// written without a journal and without SQLite's own syncs (a crash while it is built leaves
    /// only a stray temporary file, never a state), then synced once before the rename: one
    /// <c>fsync</c> instead of the eight a journalled build and a reopen in a new journal mode cost.
    /// </summary>
    internal static async Task CreateAsync(string full, CancellationToken cancellationToken)
    {
        var tmp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = tmp, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
            {
                await connection.OpenAsync(cancellationToken);
                await ExecAsync(connection, $"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN; {SqliteSchema.Create} INSERT INTO meta (key, value) VALUES ('schema_version', '{SqliteSchema.Version}'); COMMIT; PRAGMA journal_mode = WAL;", cancellationToken);
            }

            // The last connection closed: SQLite folded the (empty) WAL back and removed it.
            using (var file = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                file.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(tmp, full, overwrite: false);
            }
            catch (IOException) when (File.Exists(full))
            {
                // another command created it first: that one is used
            }
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(full, "cannot create", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateStoreException($"cannot create the state file {full}: {IoErrors.Describe(e)}", e);
        }
        finally
        {
            TryDelete(tmp);
            TryDelete(tmp + "-journal");
            TryDelete(tmp + "-wal");
            TryDelete(tmp + "-shm");
        }
    }

    /// <summary>
    /// An empty state file is not re-initialised: Cascade never leaves one (see <see cref="CreateAsync"/>),
    /// so something else emptied it, and starting over silently would hide lost history.
    /// </summary>
    private static void RefuseEmpty(string full)
    {
        if (new FileInfo(full).Length == 0)
        {
            throw new StateStoreException($"the state file {full} is empty (0 bytes): the history it held is gone. Cascade does not start over silently: move the file aside (or delete it) and run again; the runs that are done are rebuilt from the markers.");
        }
    }

    private static StateStoreException VersionMismatch(string full, string found) =>
        new($"state database {full} has schema version {found}; this cascade understands version {SqliteSchema.Version}. Use the cascade version that wrote it, or move the file aside.");

    /// <summary>
    /// Stops a scheduler whose state file was deleted or replaced under it (its commits would go to
    /// a file nobody reads, and a second scheduler could start on the new one): the path must still
    /// name the file this store opened (same device and inode).
    /// </summary>
    private void EnsureSameFile()
    {
        if (_identity is not { } expected)
        {
            return;
        }

        var now = UnixFile.Stat(_path, out var errno);
        if (now is null && errno == UnixFile.ENOENT)
        {
            throw new StateStoreException($"the state file {_path} was deleted while this scheduler was using it; stopping, and starting nothing more. Start `cascade run` again: it rebuilds what is done from the markers.");
        }

        if (now is { } status && status.Identity != expected)
        {
            throw new StateStoreException($"the state file {_path} was replaced by another file while this scheduler was using it; stopping, and starting nothing more. Start `cascade run` again to use the new file.");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: a stray temporary file, never the state
        }
    }

    public async ValueTask<SchedulerSnapshot> LoadAsync(CancellationToken cancellationToken) =>
        new(await QueryRunsAsync(new RunQuery { Limit = int.MaxValue }, cancellationToken), await GetCursorsAsync(cancellationToken));

    public async ValueTask<IReadOnlyDictionary<string, string>> GetCursorsAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT name, value FROM cursors ORDER BY name;";
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result[reader.GetString(0)] = reader.GetString(1);
            }

            return result;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask CommitAsync(IReadOnlyList<SchedulerEffect.RunChanged> changes, IReadOnlyList<SchedulerEffect.CursorMoved> cursors, IReadOnlyList<long> takenRequests, CancellationToken cancellationToken)
    {
        if (changes.Count == 0 && cursors.Count == 0 && takenRequests.Count == 0)
        {
            return;
        }

        EnsureSameFile();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var tx = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
            var (upsert, evt, start, finish, setCursor, dropCursor, lastSeq, block) = _commitStatements ??= CommitStatements.Create(_connection);

            // Every change gets the next change number (ADR 14): a history line its event id, a run
            // first seen done its seen_seq. Read in the write transaction, so numbers only grow.
            var seq = lastSeq.ScalarInt();

            // A run changed several times in one batch (queued, then started) is written once, as it ended up.
            var last = new Dictionary<(Core.Model.RunKey, int), int>(changes.Count);
            for (var i = 0; i < changes.Count; i++)
            {
                last[(changes[i].Run.Key, changes[i].Run.Generation)] = i;
            }

            // Runs first seen done first, many rows per statement: their change numbers come before
            // those of the changes they caused in the same batch (runs made ready by the marker).
            var seenDone = new List<Run>();
            for (var i = 0; i < changes.Count; i++)
            {
                if (changes[i].Quiet && last[(changes[i].Run.Key, changes[i].Run.Generation)] == i)
                {
                    seenDone.Add(changes[i].Run);
                }
            }

            foreach (var (first, lastInBlock, from, to) in RunRows.InsertSeenDone(_connection, seenDone, seq))
            {
                block.Int(1, lastInBlock);
                block.Int(2, first);
                block.Text(3, from);
                block.Text(4, to);
                block.Execute();
            }

            seq += seenDone.Count;
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                var run = change.Run;
                if (!change.Quiet && last[(run.Key, run.Generation)] == i)
                {
                    RunRows.Bind(upsert, run);
                    upsert.Execute();
                }

                if (change.Quiet)
                {
                    continue;
                }

                var at = EventTime(change);
                BindKey(evt, run);
                evt.Int(5, ++seq);
                evt.Time(6, at);
                evt.Text(7, RunRows.StateName(run.State));
                evt.Text(8, change.Event);
                evt.Text(9, change.Detail);
                evt.Time(10, run.ActivatedAt);
                evt.Time(11, run.FinishedAt);
                evt.Execute();

                if (change.Event == "started")
                {
                    BindKey(start, run);
                    start.Time(5, at);
                    start.Execute();
                }
                else if (run.Attempt > 0 && change.Event is "succeeded" or "retry" or "failed" or "interrupted" or "timed_out" or "exited" or "cancelled" or "superseded")
                {
                    BindKey(finish, run);
                    finish.Time(5, at);
                    finish.Int(6, run.ExitCode);
                    finish.Text(7, change.Event == "retry" ? "failed" : change.Event);
                    finish.Execute();
                }
            }

            foreach (var cursor in cursors)
            {
                var cmd = cursor.Value is null ? dropCursor : setCursor;
                cmd.Text(1, cursor.Name);
                if (cursor.Value is { } value)
                {
                    cmd.Text(2, value);
                }

                cmd.Execute();
            }

            if (takenRequests.Count > 0)
            {
                await using var take = _connection.CreateCommand();
                take.Transaction = tx;
                take.CommandText = $"UPDATE requests SET taken_at = $now WHERE taken_at IS NULL AND id IN ({string.Join(",", takenRequests.Select(id => id.ToString(CultureInfo.InvariantCulture)))});";
                take.Parameters.AddWithValue("$now", Time(_time.GetUtcNow()));
                await take.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot write", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<long> EnqueueRequestAsync(Request request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = "INSERT INTO requests (at, kind, job, partition, params, args) VALUES ($at, $kind, $job, $partition, $params, $args); SELECT last_insert_rowid();";
            cmd.Parameters.AddWithValue("$at", Time(request.At));
            cmd.Parameters.AddWithValue("$kind", request.Kind);
            cmd.Parameters.AddWithValue("$job", (object?)request.Key?.Job ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$partition", (object?)request.Key?.Partition.Key ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$params", JsonSerializer.Serialize(request.Params, EngineJson.Default.IReadOnlyDictionaryStringString));
            cmd.Parameters.AddWithValue("$args", JsonSerializer.Serialize(request.Args, EngineJson.Default.IReadOnlyDictionaryStringString));
            return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot write", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<bool> IsRequestTakenAsync(long id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT taken_at IS NOT NULL FROM requests WHERE id = $id;";
            cmd.Parameters.AddWithValue("$id", id);
            return await cmd.ExecuteScalarAsync(cancellationToken) is long taken && taken == 1;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Also the scheduler's periodic check that its state file is still the one it opened.</summary>
    public async ValueTask<IReadOnlyList<Request>> PendingRequestsAsync(CancellationToken cancellationToken)
    {
        EnsureSameFile();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT id, at, kind, job, partition, params, args FROM requests WHERE taken_at IS NULL ORDER BY id;";
            var result = new List<Request>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                RunKey? key = !reader.IsDBNull(3) && Partition.TryParse(reader.IsDBNull(4) ? null : reader.GetString(4), out var partition)
                    ? new RunKey(reader.GetString(3), partition)
                    : null;
                result.Add(new Request(
                    reader.GetString(2),
                    key,
                    JsonSerializer.Deserialize(reader.GetString(5), EngineJson.Default.DictionaryStringString) ?? [],
                    DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture))
                {
                    Id = reader.GetInt64(0),
                    Args = JsonSerializer.Deserialize(reader.GetString(6), EngineJson.Default.DictionaryStringString) ?? [],
                });
            }

            return result.OrderBy(r => r.Id).ToList();
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<IReadOnlyList<Run>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            var where = new List<string>();
            if (query.Job is not null)
            {
                where.Add("r.job = $job");
                cmd.Parameters.AddWithValue("$job", query.Job);
            }

            if (query.Partition is not null)
            {
                where.Add("r.partition = $partition");
                cmd.Parameters.AddWithValue("$partition", query.Partition);
            }

            if (query.State is { } state)
            {
                where.Add("r.state = $state");
                cmd.Parameters.AddWithValue("$state", RunRows.StateName(state));
            }

            if (query.Backfill is not null)
            {
                where.Add("r.backfill = $backfill");
                cmd.Parameters.AddWithValue("$backfill", query.Backfill);
            }

            if (query.From is not null)
            {
                where.Add("r.partition >= $from");
                cmd.Parameters.AddWithValue("$from", query.From);
            }

            if (query.To is not null)
            {
                // A daily key takes its hours too: 20190312 ≤ 2019031223 < 20190312~.
                where.Add("r.partition <= $to");
                cmd.Parameters.AddWithValue("$to", query.To.Length == 8 ? query.To + "99" : query.To);
            }

            if (query.NewestFirst && query.After is var (afterPartition, afterJob))
            {
                where.Add("(r.partition < $after_partition OR (r.partition = $after_partition AND r.job > $after_job))");
                cmd.Parameters.AddWithValue("$after_partition", afterPartition);
                cmd.Parameters.AddWithValue("$after_job", afterJob);
            }

            if (!query.AllGenerations)
            {
                // The latest generation of each run only.
                where.Add("r.generation = (SELECT MAX(g.generation) FROM runs g WHERE g.job = r.job AND g.partition = r.partition)");
            }

            where.Add("1 = 1");
            cmd.CommandText = $"SELECT {RunRows.Columns} FROM runs r WHERE {string.Join(" AND ", where)} {(query.NewestFirst ? "ORDER BY r.partition DESC, r.job, r.generation DESC" : "ORDER BY r.partition, r.job, r.generation")} LIMIT $limit;";
            cmd.Parameters.AddWithValue("$limit", query.Limit);
            var result = new List<Run>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (RunRows.Read(reader) is { } run)
                {
                    result.Add(run);
                }
            }

            return result;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<Run?> GetRunAsync(RunKey key, CancellationToken cancellationToken)
    {
        var runs = await QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key }, cancellationToken);
        return runs.Count > 0 ? runs[0] : null;
    }

    public ValueTask<IReadOnlyList<RunEvent>> GetEventsAsync(RunKey key, CancellationToken cancellationToken) =>
        ReadByKeyAsync(
            "SELECT at, generation, attempt, state, event, detail FROM events WHERE job = $job AND partition = $partition ORDER BY id;",
            key,
            r => new RunEvent(
                DateTimeOffset.Parse(r.GetString(0), CultureInfo.InvariantCulture),
                r.GetInt32(1),
                r.GetInt32(2),
                r.GetString(3),
                r.GetString(4),
                r.IsDBNull(5) ? null : r.GetString(5)),
            cancellationToken);

    public ValueTask<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(RunKey key, CancellationToken cancellationToken) =>
        ReadByKeyAsync(
            "SELECT generation, attempt, started_at, finished_at, exit_code, outcome FROM attempts WHERE job = $job AND partition = $partition ORDER BY generation, attempt;",
            key,
            r => new AttemptRecord(
                r.GetInt32(0),
                r.GetInt32(1),
                DateTimeOffset.Parse(r.GetString(2), CultureInfo.InvariantCulture),
                r.IsDBNull(3) ? null : DateTimeOffset.Parse(r.GetString(3), CultureInfo.InvariantCulture),
                r.IsDBNull(4) ? null : r.GetInt32(4),
                r.IsDBNull(5) ? null : r.GetString(5)),
            cancellationToken);

    /// <summary>The rows a query with <c>$job</c> and <c>$partition</c> returns for one run key.</summary>
    private ValueTask<IReadOnlyList<T>> ReadByKeyAsync<T>(string sql, RunKey key, Func<SqliteDataReader, T> read, CancellationToken cancellationToken) =>
        ReadAsync(
            sql,
            p =>
            {
                p.AddWithValue("$job", key.Job);
                p.AddWithValue("$partition", key.Partition.Key);
            },
            read,
            cancellationToken);

    public async ValueTask<IReadOnlyList<RunCount>> CountRunsAsync(CancellationToken cancellationToken) =>
        await ReadAsync(
            "SELECT r.job, r.state, COUNT(*) FROM runs r WHERE r.generation = (SELECT MAX(g.generation) FROM runs g WHERE g.job = r.job AND g.partition = r.partition) GROUP BY r.job, r.state ORDER BY r.job, r.state;",
            _ => { },
            r => new RunCount(r.GetString(0), r.GetString(1), r.GetInt64(2)),
            cancellationToken);

    /// <summary>
    /// The change feed (ADR 14): history lines by id, and runs first seen done by their block of
    /// change numbers, merged in number order. Change numbers only grow from commit to commit and a
    /// commit is seen whole, so a reader that resumes after a number misses none and repeats none.
    /// </summary>
    public async ValueTask<IReadOnlyList<RunChange>> ChangesAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // One read transaction, so one snapshot: a commit of another process landing between the
            // statements below could otherwise add a block below the history lines read after it,
            // and the cursor would pass that block by (found for ADR 21; Regression_13_*).
            await using var snapshot = _connection.BeginTransaction(deferred: true);
            var result = new List<RunChange>();
            var cursor = afterId;
            await using var blocks = _connection.CreateCommand();
            blocks.CommandText = "SELECT first_seq, last_seq, from_partition, to_partition FROM seen_blocks WHERE last_seq > $after ORDER BY last_seq LIMIT 1;";
            blocks.Transaction = snapshot;
            var blockAfter = blocks.Parameters.Add("$after", SqliteType.Integer);
            await using var events = _connection.CreateCommand();
            events.CommandText = "SELECT id, at, job, partition, generation, attempt, state, event, detail, activated_at, finished_at FROM events WHERE id > $after AND id < $before ORDER BY id LIMIT $limit;";
            events.Transaction = snapshot;
            var eventsAfter = events.Parameters.Add("$after", SqliteType.Integer);
            var eventsBefore = events.Parameters.Add("$before", SqliteType.Integer);
            var eventsLimit = events.Parameters.Add("$limit", SqliteType.Integer);
            await using var seen = _connection.CreateCommand();
            seen.CommandText = "SELECT seen_seq, created_at, job, partition, generation FROM runs WHERE partition >= $from AND partition <= $to AND seen_seq > $after AND seen_seq <= $last ORDER BY partition, job, generation LIMIT $limit;";
            seen.Transaction = snapshot;
            var seenFrom = seen.Parameters.Add("$from", SqliteType.Text);
            var seenTo = seen.Parameters.Add("$to", SqliteType.Text);
            var seenAfter = seen.Parameters.Add("$after", SqliteType.Integer);
            var seenLast = seen.Parameters.Add("$last", SqliteType.Integer);
            var seenLimit = seen.Parameters.Add("$limit", SqliteType.Integer);
            while (result.Count < limit)
            {
                (long First, long Last, string From, string To)? block = null;
                blockAfter.Value = cursor;
                await using (var reader = await blocks.ExecuteReaderAsync(cancellationToken))
                {
                    if (await reader.ReadAsync(cancellationToken))
                    {
                        block = (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3));
                    }
                }

                if (FeedPause is { } pause)
                {
                    await pause();
                }

                // The history lines before the next block.
                eventsAfter.Value = cursor;
                eventsBefore.Value = block?.First ?? long.MaxValue;
                eventsLimit.Value = limit - result.Count;
                await using (var reader = await events.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        var change = new RunChange(
                            reader.GetInt64(0),
                            DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                            reader.GetString(2),
                            reader.GetString(3),
                            reader.GetInt32(4),
                            reader.GetInt32(5),
                            reader.GetString(6),
                            reader.GetString(7),
                            reader.IsDBNull(8) ? null : reader.GetString(8),
                            reader.IsDBNull(9) ? null : DateTimeOffset.Parse(reader.GetString(9), CultureInfo.InvariantCulture),
                            reader.IsDBNull(10) ? null : DateTimeOffset.Parse(reader.GetString(10), CultureInfo.InvariantCulture));
                        result.Add(change);
                        cursor = change.Id;
                    }
                }

                if (result.Count >= limit || block is not { } b)
                {
                    break;
                }

                // Then the block: its runs in key order are its change numbers in order.
                seenFrom.Value = b.From;
                seenTo.Value = b.To;
                seenAfter.Value = cursor;
                seenLast.Value = b.Last;
                var asked = limit - result.Count;
                seenLimit.Value = asked;
                var read = 0;
                await using (var reader = await seen.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        read++;
                        var at = DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
                        var change = new RunChange(reader.GetInt64(0), at, reader.GetString(2), reader.GetString(3), reader.GetInt32(4), 0, "succeeded", "succeeded", SeenDoneDetail, null, at);
                        result.Add(change);
                        cursor = change.Id;
                    }
                }

                if (read < asked)
                {
                    cursor = b.Last; // the block is read to its end
                }
            }

            snapshot.Commit();
            return result;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>For tests: called in <see cref="ChangesAfterAsync"/> between reading the next block and the history lines before it.</summary>
    internal Func<Task>? FeedPause { get; set; }

    /// <summary>The history detail of a run first seen done (the core's words for it).</summary>
    private const string SeenDoneDetail = "done marker observed";

    private const string LastSeqSql = "SELECT max(COALESCE((SELECT MAX(id) FROM events), 0), COALESCE((SELECT MAX(last_seq) FROM seen_blocks), 0));";

    public async ValueTask<long> LastChangeIdAsync(CancellationToken cancellationToken) =>
        (await ReadAsync(LastSeqSql, _ => { }, r => r.GetInt64(0), cancellationToken))[0];

    public async ValueTask<RequestStatus?> GetRequestAsync(long id, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(
            "SELECT id, kind, job, partition, at, taken_at FROM requests WHERE id = $id;",
            p => p.AddWithValue("$id", id),
            r => new RequestStatus(
                r.GetInt64(0),
                r.GetString(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                DateTimeOffset.Parse(r.GetString(4), CultureInfo.InvariantCulture),
                r.IsDBNull(5) ? null : DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture)),
            cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }

    public async ValueTask<IReadOnlyList<RunCell>> RunCellsAsync(string fromKey, string toKey, CancellationToken cancellationToken) =>
        await ReadAsync(
            // SQLite takes the bare column (state) from the row holding MAX(generation): the latest generation, one pass over the key range.
            "SELECT job, partition, state, MAX(generation) FROM runs WHERE partition >= $from AND partition <= $to GROUP BY partition, job ORDER BY partition, job;",
            p =>
            {
                p.AddWithValue("$from", fromKey);
                p.AddWithValue("$to", toKey.Length == 8 ? toKey + "99" : toKey);
            },
            r => new RunCell(r.GetString(0), r.GetString(1), r.GetString(2)),
            cancellationToken);

    public async ValueTask<string?> LatestPartitionAsync(CancellationToken cancellationToken) =>
        (await ReadAsync("SELECT MAX(partition) FROM runs;", _ => { }, r => r.IsDBNull(0) ? null : r.GetString(0), cancellationToken))[0];

    private async ValueTask<IReadOnlyList<T>> ReadAsync<T>(string sql, Action<SqliteParameterCollection> bind, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            bind(cmd.Parameters);
            var result = new List<T>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result.Add(read(reader));
            }

            return result;
        }
        catch (SqliteException e)
        {
            throw SqliteErrors.Describe(_path, "cannot read", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _commitStatements?.Dispose(); // finalized before the connection closes
        await _connection.DisposeAsync();
        _gate.Dispose();
    }

    private static DateTimeOffset EventTime(SchedulerEffect.RunChanged change) => change.At ?? change.Event switch
    {
        "started" => change.Run.StartedAt ?? change.Run.CreatedAt,
        "queued" => change.Run.QueuedAt ?? change.Run.CreatedAt,
        "succeeded" or "failed" => change.Run.FinishedAt ?? change.Run.CreatedAt,
        "waiting" => change.Run.CreatedAt,
        _ => change.Run.FinishedAt ?? change.Run.QueuedAt ?? change.Run.StartedAt ?? change.Run.CreatedAt,
    };

    private static SqliteCommand Prepare(SqliteConnection connection, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var name in System.Text.RegularExpressions.Regex.Matches(sql, @"\$[a-z_]+").Select(m => m.Value).Distinct())
        {
            cmd.Parameters.Add(new SqliteParameter(name, null));
        }

        cmd.Prepare();
        return cmd;
    }

    /// <summary>
    /// The statements every commit uses, compiled once per connection (compiling them for each
    /// commit was a fixed cost on every batch, however small) and bound by position (<see cref="RawStatement"/>).
    /// The first four values of <see cref="Event"/>, <see cref="Start"/> and <see cref="Finish"/> are the attempt's key (<see cref="BindKey"/>).
    /// </summary>
    private sealed record CommitStatements(RawStatement Upsert, RawStatement Event, RawStatement Start, RawStatement Finish, RawStatement SetCursor, RawStatement DropCursor, RawStatement LastSeq, RawStatement Block) : IDisposable
    {
        public static CommitStatements Create(SqliteConnection connection) => new(
            new(connection, RunRows.Upsert),
            new(connection, "INSERT INTO events (job, partition, generation, attempt, id, at, state, event, detail, activated_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11);"),
            new(connection, "INSERT OR REPLACE INTO attempts (job, partition, generation, attempt, started_at) VALUES (?1, ?2, ?3, ?4, ?5);"),
            new(connection, "UPDATE attempts SET finished_at = ?5, exit_code = ?6, outcome = ?7 WHERE job = ?1 AND partition = ?2 AND generation = ?3 AND attempt = ?4 AND finished_at IS NULL;"),
            new(connection, "INSERT INTO cursors (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value;"),
            new(connection, "DELETE FROM cursors WHERE name = ?1;"),
            new(connection, LastSeqSql),
            new(connection, "INSERT INTO seen_blocks (last_seq, first_seq, from_partition, to_partition) VALUES (?1, ?2, ?3, ?4);"));

        public void Dispose()
        {
            foreach (var statement in new[] { Upsert, Event, Start, Finish, SetCursor, DropCursor, LastSeq, Block })
            {
                statement.Dispose();
            }
        }
    }

    private static void BindKey(RawStatement cmd, Run run)
    {
        cmd.Text(1, run.Key.Job);
        cmd.Text(2, run.Key.Partition.Key);
        cmd.Int(3, run.Generation);
        cmd.Int(4, run.Attempt);
    }

    // The round-trip format of a UTC DateTime ("2019-03-13T02:00:00.0000000Z") has a fast path in .NET.
    internal static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static async Task ExecAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
