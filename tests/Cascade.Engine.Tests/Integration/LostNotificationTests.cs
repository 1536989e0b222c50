using System.Runtime.CompilerServices;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Integration;

/// <summary>
/// Spec guarantee 3 (and 8, for the folder): a notification may never come. A watcher that hears
/// nothing at all still loses no marker: the periodic rescan lists the store and the run starts.
/// </summary>
public sealed class LostNotificationTests
{
    [Fact]
    public async Task A_marker_whose_notification_is_lost_is_found_by_the_next_rescan_and_starts_downstream_once()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        var store = await p.OpenStoreAsync();
        await using var _ = store;
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, RescanInterval = TimeSpan.FromMilliseconds(300) },
            store,
            new DeafMarkers(p.Markers),
            CommandExecutors.Create(p.Dir, p.StatePath, Environment.GetEnvironmentVariable),
            TimeProvider.System,
            NullLogger.Instance);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        using var stop = new CancellationTokenSource();
        var run = service.RunAsync(stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await p.WriteMarkerAsync("a", "20190312", """{"params": {"k": "v"}}""");

        await p.WaitForStateAsync("b", "20190312", RunState.Succeeded, seconds: 10);
        var b = await p.RunAsync("b", "20190312");
        Assert.Equal(1, b!.Attempt);
        Assert.Equal("v", b.Params["k"]);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The real folder store whose watcher never reports anything (every notice lost).</summary>
    private sealed class DeafMarkers(IMarkerStore inner) : IMarkerStore
    {
        public MarkerLayout Layout => inner.Layout;

        public string Locate(RunKey key) => inner.Locate(key);

        public ValueTask WriteAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken) => inner.WriteAsync(key, body, cancellationToken);

        public ValueTask WriteKnownAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken) => inner.WriteKnownAsync(key, body, cancellationToken);

        public ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadAsync(key, cancellationToken);

        public ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadStoredAsync(key, cancellationToken);

        public ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken) => inner.SupersedeAsync(key, generation, cancellationToken);

        public IAsyncEnumerable<MarkerEntry> ScanAsync(CancellationToken cancellationToken) => inner.ScanAsync(cancellationToken);

        public async IAsyncEnumerable<MarkerEntry> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            yield break;
        }
    }
}
