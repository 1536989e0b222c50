using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;

namespace Cascade.Engine.Tests.State;

/// <summary>Requests and runs read back from the state database: partitions outside the supported range never reach the core; a cancel range round-trips.</summary>
public sealed class RequestRangeTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
    private static readonly Partition Edge = Partition.Day(new DateOnly(9999, 12, 31)); // constructible, but outside the range
    private readonly string _path = Path.Combine(Path.GetTempPath(), "cascade-requests-" + Guid.NewGuid().ToString("N"), "state.db");

    [Fact]
    public async Task Regression_8_09_requests_and_runs_stored_with_partitions_outside_the_range_are_read_as_malformed_and_never_reach_the_core()
    {
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        var ok = Partition.Parse("20190312");
        await store.EnqueueRequestAsync(new Request(Request.Trigger, new RunKey("revenue", Edge), new Dictionary<string, string>(), T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForReplay("revenue", ok, Edge, downstream: true, force: false, T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForBackfill("bf", [], new DateOnly(9999, 12, 30), new DateOnly(9999, 12, 31), null, T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForCancel(null, new RunKey("revenue", ok), T0, Edge), CancellationToken.None);
        var old = new Run { Key = new RunKey("revenue", Edge), State = RunState.Queued, CreatedAt = T0, Cause = "trigger" };
        await store.CommitAsync([new SchedulerEffect.RunChanged(old, "queued", "trigger")], [], [], CancellationToken.None);

        var pending = await store.PendingRequestsAsync(CancellationToken.None);
        var snapshot = await store.LoadAsync(CancellationToken.None);

        Assert.Equal(4, pending.Count);
        Assert.All(pending, r => Assert.Null(r.ToInput(T0)));
        Assert.Empty(snapshot.Runs);
    }

    [Fact]
    public async Task Regression_8_07_a_cancel_range_request_round_trips_to_the_core_input()
    {
        await using var store = await SqliteRunStore.OpenAsync(_path, TimeProvider.System);
        var key = new RunKey("revenue", Partition.Parse("20190313"));
        await store.EnqueueRequestAsync(Request.ForCancel(null, key, T0, Partition.Parse("20261201")), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForCancel(null, key, T0), CancellationToken.None);

        var inputs = (await store.PendingRequestsAsync(CancellationToken.None)).Select(r => r.ToInput(T0)).ToList();

        Assert.Equal(new SchedulerInput.CancelRequested(null, key, T0, Partition.Parse("20261201")), inputs[0]);
        Assert.Equal(new SchedulerInput.CancelRequested(null, key, T0), inputs[1]);
    }

    public void Dispose()
    {
        var dir = Path.GetDirectoryName(_path)!;
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
