using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.State.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cascade.Engine.Tests.State;

/// <summary>The change feed of the SQLite state (ADR 14): every committed change of a run, by change number.</summary>
public sealed class ChangeFeedTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
    private readonly string _path = Path.Combine(Path.GetTempPath(), "cascade-feed-" + Guid.NewGuid().ToString("N"), "state.db");

    private static Run SeenDone(string job, string partition, DateTimeOffset at) => new()
    {
        Key = new RunKey(job, Partition.Parse(partition)),
        State = RunState.Succeeded,
        CreatedAt = at,
        FinishedAt = at,
        Cause = "marker",
        Marker = MarkerBody.Empty,
    };

    private static SchedulerEffect.RunChanged Quiet(Run run) => new(run, "succeeded", "done marker observed", Quiet: true);

    [Fact]
    public async Task Runs_seen_done_in_bulk_read_back_field_for_field_whatever_the_rows_per_statement()
    {
        // Two full statements of the bulk insert and a remainder; bodies, warnings, hours and odd text.
        var runs = new List<Run>();
        for (var i = 0; i < 2 * SeenDoneInsert.RowsPerStatement + 22; i++)
        {
            var day = new DateOnly(2019, 1, 1).AddDays(i / 3).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
            var run = SeenDone($"job_{i % 3}", i % 5 == 0 ? day + "07" : day, T0.AddMilliseconds(i * 1001.5));
            runs.Add(i % 4 == 0
                ? run with { Marker = MarkerBody.Parse($$"""{"params": {"n": "{{i}}", "name": "ü'\"; DROP"}, "rows": {{i}}}"""), Warnings = [$"warning {i} ü"] }
                : run);
        }

        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            await store.CommitAsync(runs.Select(Quiet).Reverse().ToList(), [], [], CancellationToken.None);
        }

        await using var reopened = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        foreach (var expected in runs)
        {
            var actual = await reopened.GetRunAsync(expected.Key, CancellationToken.None);
            Assert.NotNull(actual);
            Assert.Equal(
                (expected.State, expected.Generation, expected.CreatedAt, expected.FinishedAt, expected.Cause, expected.Marker?.ToJson(), string.Join("|", expected.Warnings)),
                (actual.State, actual.Generation, actual.CreatedAt, actual.FinishedAt, actual.Cause, actual.Marker?.ToJson(), string.Join("|", actual.Warnings)));
        }

        var feed = await reopened.ChangesAfterAsync(0, 1000, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, runs.Count).Select(i => (long)i), feed.Select(c => c.Id));
        Assert.Equal(runs.Select(r => (r.Key.Job, r.Key.Partition.Key)).Order(), feed.Select(c => (c.Job, c.Partition)).Order());
    }

    [Fact]
    public async Task Runs_first_seen_done_are_in_the_feed_without_a_history_line()
    {
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        await store.CommitAsync([Quiet(SeenDone("extract", "20190312", T0)), Quiet(SeenDone("extract", "20190313", T0.AddSeconds(1)))], [], [], CancellationToken.None);

        var changes = await store.ChangesAfterAsync(0, 100, CancellationToken.None);

        Assert.Equal([1L, 2L], changes.Select(c => c.Id));
        Assert.Equal(["extract 20190312", "extract 20190313"], changes.Select(c => $"{c.Job} {c.Partition}"));
        Assert.All(changes, c => Assert.Equal("succeeded", c.State));
        Assert.Equal(T0.AddSeconds(1), changes[1].FinishedAt);
        Assert.Equal(2, await store.LastChangeIdAsync(CancellationToken.None));
        Assert.Empty(await store.GetEventsAsync(new RunKey("extract", Partition.Parse("20190312")), CancellationToken.None)); // still one row per run, no history line
        Assert.Equal(0, Count("events"));
    }

    [Fact]
    public async Task History_lines_and_runs_seen_done_share_one_growing_sequence_across_commits_and_reopens()
    {
        var running = new Run { Key = new RunKey("load", Partition.Parse("20190312")), State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0, ActivatedAt = T0 };
        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            await store.CommitAsync([Quiet(SeenDone("extract", "20190312", T0)), new SchedulerEffect.RunChanged(running, "started", "attempt 1")], [], [], CancellationToken.None);
        }

        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            var done = running with { State = RunState.Succeeded, FinishedAt = T0.AddSeconds(2) };
            await store.CommitAsync([new SchedulerEffect.RunChanged(done, "succeeded", "exit 0"), Quiet(SeenDone("extract", "20190313", T0))], [], [], CancellationToken.None);
        }

        await using var reader = await SqliteRunStore.OpenForReadingAsync(_path, TimeProvider.System);
        var changes = await reader.ChangesAfterAsync(0, 100, CancellationToken.None);

        // Within a commit: its runs seen done (the causes), then its history lines; commits in order.
        Assert.Equal(["1 extract succeeded", "2 load running", "3 extract succeeded", "4 load succeeded"], changes.Select(c => $"{c.Id} {c.Job} {c.State}"));
        Assert.Equal(T0, changes[1].ActivatedAt);
        Assert.Null(changes[1].FinishedAt);
        Assert.Equal(T0, changes[3].ActivatedAt);
        Assert.Equal(T0.AddSeconds(2), changes[3].FinishedAt);
    }

    [Fact]
    public async Task Reading_from_any_change_number_in_any_page_size_gives_each_later_change_once_in_order()
    {
        // A cold start's shape: many runs seen done over several days and jobs, hourly among daily,
        // committed in two batches, with history lines between.
        var first = new List<SchedulerEffect.RunChanged>();
        var second = new List<SchedulerEffect.RunChanged>();
        foreach (var day in new[] { "20190314", "20190312", "20190313" })
        {
            foreach (var job in new[] { "b", "a", "c" })
            {
                first.Add(Quiet(SeenDone(job, day, T0)));
            }

            first.Add(Quiet(SeenDone("h", day + "05", T0)));
            second.Add(Quiet(SeenDone("z", day, T0)));
        }

        var running = new Run { Key = new RunKey("load", Partition.Parse("20190312")), State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0 };
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        await store.CommitAsync(first, [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running, "started", null), .. second], [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running with { State = RunState.Succeeded, FinishedAt = T0 }, "succeeded", null)], [], [], CancellationToken.None);

        var all = await store.ChangesAfterAsync(0, int.MaxValue, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, first.Count + second.Count + 2).Select(i => (long)i), all.Select(c => c.Id));
        Assert.Equal(first.Count + second.Count, all.Count(c => c.Event == "succeeded" && c.Attempt == 0));
        Assert.Equal(all.Select(c => $"{c.Job} {c.Partition}").Distinct().Count(), all.Count - 1); // load twice, every other run once
        Assert.True(Count("seen_blocks") <= 6, $"one block per day and commit, got {Count("seen_blocks")}");

        foreach (var after in Enumerable.Range(0, all.Count + 1))
        {
            foreach (var page in new[] { 1, 2, 5, 100 })
            {
                var read = new List<long>();
                var cursor = (long)after;
                while (true)
                {
                    var got = await store.ChangesAfterAsync(cursor, page, CancellationToken.None);
                    Assert.True(got.Count <= page);
                    if (got.Count == 0)
                    {
                        break;
                    }

                    read.AddRange(got.Select(c => c.Id));
                    cursor = got[^1].Id;
                }

                Assert.Equal(all.Skip(after).Select(c => c.Id), read);
            }
        }
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

        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            await store.CommitAsync([Quiet(SeenDone("extract", "20190313", T0))], [], [], CancellationToken.None);
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

    private long Count(string table)
    {
        using var connection = new SqliteConnection($"Data Source={_path};Pooling=false;Mode=ReadOnly");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)cmd.ExecuteScalar()!;
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
