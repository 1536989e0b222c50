using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Engine;

/// <summary>
/// Faults around the loop. The effect stage commits a loop pass's decisions before it starts
/// anything: when a commit fails (a full disk, a broken file) the scheduler must stop with that
/// error, promptly, and start none of the attempts the failed commit decided; it must never hang
/// waiting for a stage that is gone. And a stop (SIGTERM) that cuts a read short is a normal stop.
/// </summary>
public sealed class EngineFaultTests
{
    private const string Yaml = """
        markers: {folder: ./markers}
        state: sqlite:.cascade/state.db
        jobs:
          src: {run: external}
          dst:
            after: [src]
            run: {command: [sh, -c, "touch started-$CASCADE_PARTITION"]}
        """;

    [Fact]
    public async Task A_failing_commit_stops_the_scheduler_with_its_error_and_starts_nothing_it_decided()
    {
        await using var p = TempPipeline.Create(Yaml);
        var inner = await p.OpenStoreAsync();
        await using var store = new FaultyStore(inner);
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4 },
            store,
            p.Markers,
            CommandExecutors.Create(p.Dir, null, Environment.GetEnvironmentVariable),
            TimeProvider.System,
            NullLogger.Instance);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = service.RunAsync(stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));

        store.FailFromNow = true;
        await p.WriteMarkerAsync("src", "20190312");

        var error = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("disk full (injected)", error.Message);
        Assert.False(stop.IsCancellationRequested, "the scheduler should stop on the failed commit, not on the test's time limit");
        Assert.False(File.Exists(Path.Combine(p.Dir, "started-20190312")), "dst started although the decision to start it was never committed");
        Assert.True(store.FailedCommits >= 1);
    }

    [Fact]
    public async Task After_a_failed_commit_a_new_scheduler_starts_the_run_the_failed_one_had_decided()
    {
        await using var p = TempPipeline.Create(Yaml);
        var inner = await p.OpenStoreAsync();
        await using (var store = new FaultyStore(inner) { FailFromNow = true })
        {
            await p.WriteMarkerAsync("src", "20190312");
            using var service = new SchedulerService(
                p.Pipeline,
                new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, UntilIdle = true },
                store,
                p.Markers,
                CommandExecutors.Create(p.Dir, null, Environment.GetEnvironmentVariable),
                TimeProvider.System,
                NullLogger.Instance);
            await Assert.ThrowsAsync<IOException>(() => service.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.False(File.Exists(Path.Combine(p.Dir, "started-20190312")));
        await p.RunUntilIdleAsync();
        Assert.True(File.Exists(Path.Combine(p.Dir, "started-20190312")), "the restarted scheduler did not run dst");
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("dst", "20190312"))!.State);
    }

    [Fact]
    public async Task A_stop_that_cuts_the_inbox_read_short_is_a_normal_stop()
    {
        await using var p = TempPipeline.Create(Yaml);
        var inner = await p.OpenStoreAsync();
        await using var store = new FaultyStore(inner);
        using var stop = new CancellationTokenSource();
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, InboxInterval = TimeSpan.FromMilliseconds(20) },
            store,
            p.Markers,
            CommandExecutors.Create(p.Dir, null, Environment.GetEnvironmentVariable),
            TimeProvider.System,
            NullLogger.Instance);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        var run = service.RunAsync(stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // SIGTERM lands while the scheduler reads its inbox: the read throws OperationCanceledException.
        store.OnPendingRequests = stop.Cancel;

        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(stop.IsCancellationRequested);
        Assert.True(store.TakesCutShort >= 1);
    }

    [Fact]
    public async Task Regression_8_02_a_kill_between_the_marker_write_and_the_commit_never_leaves_a_succeeded_run_without_its_marker()
    {
        await using var p = TempPipeline.Create(Yaml);
        var dstMarker = Path.Combine(p.Dir, "markers", "dst__20190312.done");
        var inner = await p.OpenStoreAsync();
        await using (var store = new FaultyStore(inner))
        {
            // The scheduler "dies" exactly when it writes dst's marker (dst exited 0 without one).
            var markers = new FaultyMarkers(p.Markers) { OnWrite = key => key.Job == "dst" ? throw new InvalidOperationException("killed here (injected)") : null };
            using var service = new SchedulerService(
                p.Pipeline,
                new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, UntilIdle = true },
                store,
                markers,
                CommandExecutors.Create(p.Dir, p.StatePath, Environment.GetEnvironmentVariable),
                TimeProvider.System,
                NullLogger.Instance);
            await p.WriteMarkerAsync("src", "20190312");
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => service.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("killed here (injected)", error.Message);
        }

        // Whatever the state says after the "kill", it may not say succeeded without the marker.
        var afterKill = await p.RunAsync("dst", "20190312");
        Assert.False(afterKill is { State: RunState.Succeeded } && !File.Exists(dstMarker), "the state records dst succeeded but its marker is not in the store");

        await p.RunUntilIdleAsync();
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("dst", "20190312"))!.State);
        Assert.True(File.Exists(dstMarker), "after a restart dst is succeeded but its marker is still missing");
    }

    [Fact]
    public async Task Regression_8_02_a_succeeded_run_whose_marker_is_missing_gets_it_written_again_on_restart()
    {
        await using var p = TempPipeline.Create("""
            markers: {folder: ./markers}
            state: sqlite:.cascade/state.db
            jobs:
              src: {run: external}
              dst:
                after: [src]
                run: {command: [sh, -c, 'printf "{\"params\": {\"x\": \"y\"}, \"rows\": 3}" > "$CASCADE_MARKER"']}
            """);
        await p.WriteMarkerAsync("src", "20190312");
        await p.RunUntilIdleAsync();
        var marker = Path.Combine(p.Dir, "markers", "dst__20190312.done");
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("dst", "20190312"))!.State);

        // What an older version's crash (commit, then kill before the write) left: succeeded, no marker.
        File.Delete(marker);
        await p.RunUntilIdleAsync();

        Assert.True(File.Exists(marker), "the restart did not write the missing marker of a succeeded run");
        var body = Cascade.Core.Markers.MarkerBody.Parse(await File.ReadAllBytesAsync(marker));
        Assert.Equal("y", body.Params["x"]);
        Assert.Equal("3", body.Meta["rows"].GetRawText());
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("dst", "20190312"))!.State);
    }

    [Fact]
    public async Task A_kill_between_a_replays_commit_and_moving_the_old_marker_aside_is_repaired_on_restart()
    {
        await using var p = TempPipeline.Create(Yaml);
        await p.WriteMarkerAsync("src", "20190312");
        await p.RunUntilIdleAsync();
        var dstMarker = Path.Combine(p.Dir, "markers", "dst__20190312.done");
        Assert.True(File.Exists(dstMarker));
        File.Delete(Path.Combine(p.Dir, "started-20190312"));

        // The replay is committed but the old marker is never moved (the process died in between).
        var inner = await p.OpenStoreAsync();
        await using (var store = new FaultyStore(inner))
        {
            await store.EnqueueRequestAsync(Request.ForReplay("dst", Partition.Parse("20190312"), Partition.Parse("20190312"), downstream: false, force: false, TimeProvider.System.GetUtcNow()), CancellationToken.None);
            var markers = new FaultyMarkers(p.Markers) { SkipSupersede = true };
            using var service = new SchedulerService(
                p.Pipeline,
                new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, UntilIdle = true },
                store,
                markers,
                new GateExecutor(),
                TimeProvider.System,
                NullLogger.Instance);
            var stop = new CancellationTokenSource();
            var run = service.RunAsync(stop.Token);
            await TempPipeline.WaitUntilAsync(async () => (await inner.GetRunAsync(TempPipeline.Key("dst", "20190312"), CancellationToken.None))?.Generation == 2, TimeSpan.FromSeconds(20), "the replay to be committed");
            service.KillRunning();
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.True(File.Exists(dstMarker), "the emulated crash should have left generation 1's marker in place");

        await p.RunUntilIdleAsync();
        var dst = (await p.RunAsync("dst", "20190312"))!;
        Assert.Equal(2, dst.Generation);
        Assert.Equal(RunState.Succeeded, dst.State);
        Assert.True(File.Exists(Path.Combine(p.Dir, "started-20190312")), "generation 2 of dst never ran: the old marker was taken as done");
        Assert.True(File.Exists(Path.Combine(p.Dir, "markers", ".superseded", "g1", "dst__20190312.done")), "generation 1's marker was not moved aside");
    }

    [Fact]
    public async Task Regression_8_06_graceful_stop_never_records_a_finished_command_as_interrupted()
    {
        await using var p = TempPipeline.Create(Yaml);
        var inner = await p.OpenStoreAsync();
        await using var store = new FaultyStore(inner);
        var executor = new GateExecutor();
        using var stop = new CancellationTokenSource();
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, InboxInterval = TimeSpan.FromMilliseconds(20) },
            store,
            p.Markers,
            executor,
            TimeProvider.System,
            NullLogger.Instance);
        var run = service.RunAsync(stop.Token);
        await p.WriteMarkerAsync("src", "20190312");
        await executor.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // On the loop, between two passes: the command exits (its outcome is queued and it leaves
        // the running count at once), and the stop begins before the loop reads the inbox again.
        store.OnPendingRequests = () =>
        {
            executor.Finish(new AttemptOutcome.Exited(0));
            stop.Cancel();
        };

        await run.WaitAsync(TimeSpan.FromSeconds(30));
        var dst = await inner.GetRunAsync(TempPipeline.Key("dst", "20190312"), CancellationToken.None);
        Assert.Equal(RunState.Succeeded, dst!.State);
    }

    /// <summary>An executor whose attempts end when the test says (null outcome: never).</summary>
    private sealed class GateExecutor : IExecutor
    {
        // Not asynchronous on purpose: finishing runs the engine's continuation inline, on the caller's thread.
        private readonly TaskCompletionSource<AttemptOutcome> _finish = new();

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Finish(AttemptOutcome outcome) => _finish.TrySetResult(outcome);

        public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
        {
            Started.TrySetResult();
            using var killed = kill.Register(() => _finish.TrySetResult(new AttemptOutcome.Killed()));
            return await _finish.Task;
        }
    }

    /// <summary>The real folder store, with faults on demand: a write that throws, a move aside that never happens.</summary>
    private sealed class FaultyMarkers(IMarkerStore inner) : IMarkerStore
    {
        public Func<RunKey, object?>? OnWrite { get; init; }

        public bool SkipSupersede { get; init; }

        public Cascade.Core.Markers.MarkerLayout Layout => inner.Layout;

        public string Locate(RunKey key) => inner.Locate(key);

        public ValueTask WriteAsync(RunKey key, Cascade.Core.Markers.MarkerBody body, CancellationToken cancellationToken)
        {
            OnWrite?.Invoke(key);
            return inner.WriteAsync(key, body, cancellationToken);
        }

        public ValueTask WriteKnownAsync(RunKey key, Cascade.Core.Markers.MarkerBody body, CancellationToken cancellationToken)
        {
            OnWrite?.Invoke(key);
            return inner.WriteKnownAsync(key, body, cancellationToken);
        }

        public ValueTask<Cascade.Core.Markers.MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadAsync(key, cancellationToken);

        public ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadStoredAsync(key, cancellationToken);

        public ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken) =>
            SkipSupersede ? ValueTask.FromResult(true) : inner.SupersedeAsync(key, generation, cancellationToken);

        public IAsyncEnumerable<MarkerEntry> ScanAsync(CancellationToken cancellationToken) => inner.ScanAsync(cancellationToken);

        public IAsyncEnumerable<MarkerEntry> WatchAsync(CancellationToken cancellationToken) => inner.WatchAsync(cancellationToken);
    }

    /// <summary>The real SQLite store, with faults on demand: failing commits, a hook at the next inbox read.</summary>
    private sealed class FaultyStore(IStateStore inner) : IRunStore
    {
        private int _failed;

        public volatile bool FailFromNow;

        public int FailedCommits => Volatile.Read(ref _failed);

        public ValueTask CommitAsync(IReadOnlyList<SchedulerEffect.RunChanged> changes, IReadOnlyList<SchedulerEffect.CursorMoved> cursors, IReadOnlyList<long> takenRequests, CancellationToken cancellationToken)
        {
            if (FailFromNow)
            {
                Interlocked.Increment(ref _failed);
                throw new IOException("disk full (injected)");
            }

            return inner.CommitAsync(changes, cursors, takenRequests, cancellationToken);
        }

        public ValueTask<SchedulerSnapshot> LoadAsync(CancellationToken cancellationToken) => inner.LoadAsync(cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, string>> GetCursorsAsync(CancellationToken cancellationToken) => inner.GetCursorsAsync(cancellationToken);

        public ValueTask<long> EnqueueRequestAsync(Request request, CancellationToken cancellationToken) => inner.EnqueueRequestAsync(request, cancellationToken);

        public ValueTask<bool> IsRequestTakenAsync(long id, CancellationToken cancellationToken) => inner.IsRequestTakenAsync(id, cancellationToken);

        /// <summary>Runs at the start of the next inbox read (e.g. a stop arriving just then).</summary>
        public Action? OnPendingRequests { get; set; }

        public int TakesCutShort { get; private set; }

        public ValueTask<IReadOnlyList<Request>> PendingRequestsAsync(CancellationToken cancellationToken)
        {
            if (OnPendingRequests is { } hook)
            {
                OnPendingRequests = null;
                hook();
                TakesCutShort++;
            }

            return inner.PendingRequestsAsync(cancellationToken);
        }

        public ValueTask<IReadOnlyList<Run>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken) => inner.QueryRunsAsync(query, cancellationToken);

        public ValueTask<Run?> GetRunAsync(RunKey key, CancellationToken cancellationToken) => inner.GetRunAsync(key, cancellationToken);

        public ValueTask<IReadOnlyList<RunEvent>> GetEventsAsync(RunKey key, CancellationToken cancellationToken) => inner.GetEventsAsync(key, cancellationToken);

        public ValueTask<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(RunKey key, CancellationToken cancellationToken) => inner.GetAttemptsAsync(key, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
