using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cascade.Engine.Tests.State;

public sealed class SqliteRunStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
    private readonly string _path = Path.Combine(Path.GetTempPath(), "cascade-store-" + Guid.NewGuid().ToString("N"), "state.db");

    [Fact]
    public async Task A_run_round_trips_with_every_field()
    {
        var key = new RunKey("revenue", Partition.Parse("20190312"));
        var run = new Run
        {
            Key = key,
            State = RunState.Queued,
            Attempt = 2,
            Failures = 1,
            CreatedAt = T0,
            QueuedAt = T0.AddSeconds(1),
            ActivatedAt = T0.AddSeconds(2),
            StartedAt = T0.AddSeconds(3),
            NextRetryAt = T0.AddSeconds(60),
            Cause = "inputs",
            Params = new SortedDictionary<string, string> { ["currency"] = "EUR" },
            TriggerParams = new SortedDictionary<string, string> { ["x"] = "y" },
            Marker = MarkerBody.Parse("""{"rows": 3, "params": {"a": "b"}}"""),
            ExitCode = 3,
            Reason = "exited with code 3",
            Warnings = ["w1"],
        };
        await using (var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System))
        {
            await store.CommitAsync([new SchedulerEffect.RunChanged(run, "retry", "x")], [], [], CancellationToken.None);
        }

        await using var reopened = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        var loaded = Assert.Single((await reopened.LoadAsync(CancellationToken.None)).Runs);
        Assert.Equal(run.Key, loaded.Key);
        Assert.Equal(run.State, loaded.State);
        Assert.Equal(run.NextRetryAt, loaded.NextRetryAt);
        Assert.Equal(run.StartedAt, loaded.StartedAt);
        Assert.Equal("EUR", loaded.Params["currency"]);
        Assert.Equal("y", loaded.TriggerParams["x"]);
        Assert.Equal(3, loaded.Marker!.Meta["rows"].GetInt32());
        Assert.Equal("b", loaded.Marker.Params["a"]);
        Assert.Equal(3, loaded.ExitCode);
        Assert.Equal(["w1"], loaded.Warnings);
        var events = await reopened.GetEventsAsync(key, CancellationToken.None);
        Assert.Equal("retry", Assert.Single(events).Event);
    }

    [Fact]
    public async Task A_trigger_request_is_taken_by_the_commit_that_answers_it_and_then_never_handed_out_again()
    {
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        var id = await store.EnqueueRequestAsync(new Request(Request.Trigger, new RunKey("a", Partition.Parse("2019031205")), new Dictionary<string, string> { ["k"] = "v" }, T0), CancellationToken.None);

        var first = await store.PendingRequestsAsync(CancellationToken.None);
        var again = await store.PendingRequestsAsync(CancellationToken.None);
        Assert.False(await store.IsRequestTakenAsync(id, CancellationToken.None));
        await store.CommitAsync([], [], [id], CancellationToken.None);
        var second = await store.PendingRequestsAsync(CancellationToken.None);

        Assert.Equal(first.Select(r => r.Id), again.Select(r => r.Id)); // read, not taken: a scheduler that dies before its commit leaves it for the next one
        Assert.True(await store.IsRequestTakenAsync(id, CancellationToken.None));

        var request = Assert.Single(first);
        Assert.Equal(id, request.Id);
        Assert.Equal("2019031205", request.Key!.Value.Partition.Key);
        Assert.Equal("v", request.Params["k"]);
        Assert.Empty(second);
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
    public async Task Attempts_record_start_and_end_with_exit_codes()
    {
        var key = new RunKey("a", Partition.Parse("20190312"));
        var running = new Run { Key = key, State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0 };
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running, "started", null)], [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running with { State = RunState.Failed, ExitCode = 2, FinishedAt = T0.AddSeconds(5) }, "failed", "boom")], [], [], CancellationToken.None);

        var attempt = Assert.Single(await store.GetAttemptsAsync(key, CancellationToken.None));
        Assert.Equal(2, attempt.ExitCode);
        Assert.Equal(T0.AddSeconds(5), attempt.FinishedAt);
        Assert.Equal("failed", attempt.Outcome);
        _ = JsonSerializer.Serialize(attempt);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
