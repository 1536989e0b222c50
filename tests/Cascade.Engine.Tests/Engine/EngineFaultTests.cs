using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;
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
        var inner = await SqliteRunStore.OpenAsync(p.StatePath, TimeProvider.System);
        await using var store = new FaultyStore(inner);
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4 },
            store,
            p.Markers,
            new ProcessExecutor(p.Dir),
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
        var inner = await SqliteRunStore.OpenAsync(p.StatePath, TimeProvider.System);
        await using (var store = new FaultyStore(inner) { FailFromNow = true })
        {
            await p.WriteMarkerAsync("src", "20190312");
            using var service = new SchedulerService(
                p.Pipeline,
                new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, UntilIdle = true },
                store,
                p.Markers,
                new ProcessExecutor(p.Dir),
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
        var inner = await SqliteRunStore.OpenAsync(p.StatePath, TimeProvider.System);
        await using var store = new FaultyStore(inner);
        using var stop = new CancellationTokenSource();
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, InboxInterval = TimeSpan.FromMilliseconds(20) },
            store,
            p.Markers,
            new ProcessExecutor(p.Dir),
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

    /// <summary>The real SQLite store, with faults on demand: failing commits, a hook at the next inbox read.</summary>
    private sealed class FaultyStore(SqliteRunStore inner) : IRunStore
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
