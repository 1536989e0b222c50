using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cascade.Engine.Tests.State;

/// <summary>The state-store suite on a SQLite file, and what only a file does: its schema versions.</summary>
public sealed class SqliteRunStoreTests : RunStoreContract, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "cascade-store-" + Guid.NewGuid().ToString("N"), "state.db");

    protected override async Task<IStateStore?> OpenAsync(string test) => await SqliteRunStore.OpenAsync(_path, TimeProvider.System);

    protected override async Task<IStateStore?> OpenForReadingAsync(string test) => await SqliteRunStore.OpenForReadingAsync(_path, TimeProvider.System);

    protected override void PauseFeed(IStateStore store, Func<Task>? pause) => ((SqliteRunStore)store).FeedPause = pause;

    protected override Task<long> CountAsync(string table)
    {
        using var connection = new SqliteConnection($"Data Source={_path};Pooling=false;Mode=ReadOnly");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {table};";
        return Task.FromResult((long)cmd.ExecuteScalar()!);
    }

    [Fact]
    public async Task A_database_from_a_newer_schema_is_refused_with_a_clear_message()
    {
        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            Assert.NotNull(store);
        }

        await using (var raw = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            await raw.OpenAsync();
            await using var cmd = raw.CreateCommand();
            cmd.CommandText = "UPDATE meta SET value = '99' WHERE key = 'schema_version'";
            await cmd.ExecuteNonQueryAsync();
        }

        var e = await Assert.ThrowsAsync<StateStoreException>(() => SqliteRunStore.OpenAsync(_path, TimeProvider.System));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_state_of_schema_version_1_is_migrated_and_its_old_history_stays_in_the_feed()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using (var raw = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            raw.Open();
            using var cmd = raw.CreateCommand();
            cmd.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                INSERT INTO meta VALUES ('schema_version', '1');
                CREATE TABLE runs (job TEXT NOT NULL, partition TEXT NOT NULL, generation INTEGER NOT NULL, state TEXT NOT NULL, attempt INTEGER NOT NULL, failures INTEGER NOT NULL,
                    created_at TEXT NOT NULL, queued_at TEXT, activated_at TEXT, started_at TEXT, finished_at TEXT, next_retry_at TEXT, wait_deadline TEXT, cause TEXT, backfill TEXT,
                    params TEXT NOT NULL, trigger_params TEXT NOT NULL, marker TEXT, exit_code INTEGER, reason TEXT, warnings TEXT NOT NULL, PRIMARY KEY (partition, job, generation)) WITHOUT ROWID;
                CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT NOT NULL, job TEXT NOT NULL, partition TEXT NOT NULL, generation INTEGER NOT NULL, attempt INTEGER NOT NULL,
                    state TEXT NOT NULL, event TEXT NOT NULL, detail TEXT);
                INSERT INTO runs VALUES ('load', '20190312', 1, 'succeeded', 1, 0, '2019-03-13T02:00:00.0000000Z', NULL, NULL, NULL, '2019-03-13T02:00:01.0000000Z', NULL, NULL, 'inputs', NULL, '{}', '{}', NULL, 0, NULL, '[]');
                INSERT INTO events VALUES (7, '2019-03-13T02:00:01.0000000Z', 'load', '20190312', 1, 1, 'succeeded', 'succeeded', 'exit 0');
                """;
            cmd.ExecuteNonQuery();
        }

        var migration = await SqliteRunStore.MigrateAsync(_path);
        Assert.Equal((1, 2), (migration.From, migration.To));
        Assert.Equal([2], migration.Applied.Select(a => a.Version));
        Assert.Empty((await SqliteRunStore.MigrateAsync(_path)).Applied);

        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            var seen = new Run { Key = new RunKey("extract", Partition.Parse("20190313")), State = RunState.Succeeded, CreatedAt = T0, FinishedAt = T0, Cause = "marker", Marker = MarkerBody.Empty };
            await store.CommitAsync([new SchedulerEffect.RunChanged(seen, "succeeded", "done marker observed", Quiet: true)], [], [], CancellationToken.None);
        }

        await using var reader = await SqliteRunStore.OpenForReadingAsync(_path, TimeProvider.System);
        var changes = await reader.ChangesAfterAsync(0, 100, CancellationToken.None);
        Assert.Equal(["7 load succeeded", "8 extract succeeded"], changes.Select(c => $"{c.Id} {c.Job} {c.State}"));
        Assert.Null(changes[0].FinishedAt); // not kept before version 2
        Assert.Equal(RunState.Succeeded, (await reader.GetRunAsync(new RunKey("load", Partition.Parse("20190312")), CancellationToken.None))!.State);
        using var check = new SqliteConnection($"Data Source={_path};Pooling=false;Mode=ReadOnly");
        check.Open();
        using var version = check.CreateCommand();
        version.CommandText = "SELECT value FROM meta WHERE key = 'schema_version';";
        Assert.Equal("2", version.ExecuteScalar());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
