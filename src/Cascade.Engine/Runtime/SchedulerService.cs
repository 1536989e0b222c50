using System.Threading.Channels;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Executors;
using Cascade.Engine.Markers;
using Cascade.Engine.State;
using Microsoft.Extensions.Logging;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Engine.Runtime;

/// <summary>
/// The scheduler process: one event loop around the pure <see cref="Scheduler"/>, and an effect
/// stage behind it. Marker notices, attempt outcomes, inbox requests and timers become inputs on the
/// loop; the decisions of one loop pass form a <see cref="Batch"/>, which the effect stage commits in
/// one transaction (group commit), then writes its markers, sends its alerts and, only then, starts
/// its attempts. The loop decides the next batch while the stage does the I/O of the last one, so
/// deciding and storing use both cores. Only the loop touches the core; only the stage touches the
/// state store while the loop runs (the loop waits for the stage to settle before it reads it).
/// </summary>
public sealed class SchedulerService : IDisposable
{
    private readonly Pipeline _pipeline;
    private readonly EngineOptions _options;
    private readonly IRunStore _store;
    private readonly IMarkerStore _markers;
    private readonly IExecutor _executor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Message> _inbox = Channel.CreateUnbounded<Message>();

    // Two batches in flight keep both cores busy (measured: four were no faster and only held more memory).
    private readonly Channel<Batch> _effects = Channel.CreateBounded<Batch>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
    private readonly List<ObservedMarker> _pendingMarkers = [];
    private Batch _pending = new();
    private Task _effectStage = Task.CompletedTask;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _effectFailure;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(RunKey Key, int Generation, int Attempt), CancellationTokenSource> _attempts = new();
    private readonly AlertDispatcher? _alerts;
    private readonly SchedulerLock? _doorbell; // rung by the CLI after it leaves a request: read the inbox now
    private bool _requestsWaiting;
    private readonly HashSet<string> _ignoredPaths = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _kill = new();
    private readonly SettlingMarkers _settling = new();
    private readonly List<SchedulerEffect.WriteMarker> _owedMarkers = []; // the effect stage's: writes that failed, tried again with each batch
    private HashSet<RunKey>? _seenAtStart; // keys with a marker in the store, collected by the start-up rescan
    private Scheduler _core = null!;
    private int _outstanding;

    public SchedulerService(
        Pipeline pipeline,
        EngineOptions options,
        IRunStore store,
        IMarkerStore markers,
        IExecutor executor,
        TimeProvider time,
        ILogger logger,
        AlertDispatcher? alerts = null,
        SchedulerLock? doorbell = null)
    {
        _doorbell = doorbell;
        _alerts = alerts;
        _pipeline = pipeline;
        _options = options;
        _store = store;
        _markers = markers;
        _executor = executor;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised by the effect stage after a change is committed (one thread, in commit order).</summary>
    public event Action<SchedulerEffect.RunChanged>? RunChanged;

    /// <summary>Raised on the loop for everything ignored (bad markers, refused triggers).</summary>
    public event Action<string>? Warning;

    /// <summary>Raised by the effect stage for every alert, after the decision behind it is committed.</summary>
    public event Action<Alert>? AlertRaised;

    /// <summary>Raised by the executor's thread the moment an attempt's process has started (for measurements).</summary>
    public event Action<Activation>? AttemptStarted;

    /// <summary>Raised once the start-up rescan and recovery are committed.</summary>
    public event Action? Ready;

    public EngineCounters Counters { get; } = new();

    /// <summary>Runs until <paramref name="stop"/> is cancelled (or, with <see cref="EngineOptions.UntilIdle"/>, until idle).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        _core = new Scheduler(_pipeline, new SchedulerOptions { MaxParallel = _options.MaxParallel, HoldUntilStarted = true }, await _store.LoadAsync(stop));
        using var loop = new CancellationTokenSource();
        _effectStage = Task.Run(EffectStageAsync, CancellationToken.None);
        var watch = WatchAsync(loop.Token);
        var rings = ListenAsync(loop.Token);
        try
        {
            // Before anything is started again: what a dead scheduler of this state left running (ADR 7).
            foreach (var ended in await _executor.EndOrphansAsync(stop))
            {
                _logger.LogWarning("{Orphan}", ended);
            }

            _seenAtStart = [];
            await RescanAsync(stop, flushEvery: _options.MaxBatch * 16);
            RestoreMissingMarkers(_seenAtStart);
            _seenAtStart = null;
            Apply(new SchedulerStarted(_time.GetUtcNow()));
            await TakeRequestsAsync(stop);
            await FlushAsync();
            await SettleAsync();
            Ready?.Invoke();
            await LoopAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping cut a read short (the inbox, a rescan): a normal stop, not an error.
        }
        finally
        {
            try
            {
                await ShutdownAsync();
            }
            finally
            {
                _effects.Writer.TryComplete();
                await loop.CancelAsync();
                await watch;
                await rings;
                await _effectStage;
            }
        }
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var nextInbox = _time.GetUtcNow() + _options.InboxInterval;
        var nextRescan = _time.GetUtcNow() + _options.RescanInterval;
        while (!stop.IsCancellationRequested)
        {
            if (_options.UntilIdle && _core.IsIdle && Volatile.Read(ref _outstanding) == 0 && _inbox.Reader.Count == 0 && _settling.Count == 0)
            {
                await TakeRequestsAsync(stop);
                await FlushAsync();
                await SettleAsync();
                if (_core.IsIdle && _inbox.Reader.Count == 0)
                {
                    return;
                }
            }

            var now = _time.GetUtcNow();
            var dueAt = _core.NextWakeAt;
            var wake = Min(Min(nextInbox, nextRescan), dueAt ?? DateTimeOffset.MaxValue);
            if (_inbox.Reader.Count == 0 && wake > now)
            {
                await WaitAsync(wake - now, stop);
            }

            var batch = 0;
            while (batch < _options.MaxBatch && _inbox.Reader.TryRead(out var message))
            {
                await HandleAsync(message, stop);
                batch++;
            }

            now = _time.GetUtcNow();
            // Recomputed only when the batch may have changed it (NextWakeAt walks the scheduled jobs).
            if ((batch > 0 ? _core.NextWakeAt : dueAt) is { } due && due <= now)
            {
                Apply(new TimePassed(now));
            }

            if (now >= nextInbox || _requestsWaiting)
            {
                _requestsWaiting = false;
                await TakeRequestsAsync(stop);
                nextInbox = now + _options.InboxInterval;
            }

            if (now >= nextRescan)
            {
                await RescanAsync(stop);
                nextRescan = _time.GetUtcNow() + _options.RescanInterval;
            }

            await FlushAsync();
        }
    }

    private async Task WaitAsync(TimeSpan timeout, CancellationToken stop)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var read = _inbox.Reader.WaitToReadAsync(cts.Token).AsTask();
        var delay = Task.Delay(timeout < TimeSpan.FromDays(1) ? timeout : TimeSpan.FromDays(1), _time, cts.Token);
        await Task.WhenAny(read, delay);
        await cts.CancelAsync();
        try
        {
            await Task.WhenAll(read, delay);
        }
        catch (OperationCanceledException)
        {
            // the other wait was cancelled on purpose
        }
    }

    private async Task HandleAsync(Message message, CancellationToken stop)
    {
        switch (message)
        {
            case Message.Notice { Entry.IsRescan: true }:
                await RescanAsync(stop);
                break;
            case Message.Notice n:
                await ObserveAsync(n.Entry, stop);
                break;
            case Message.Recheck r:
                _settling.RecheckArrived(r.Entry.RelativePath);
                await ObserveAsync(r.Entry, stop);
                break;
            case Message.Input i:
                Apply(i.Value);
                break;
            case Message.RequestsWaiting:
                _requestsWaiting = true;
                break;
            case Message.Wake:
                break;
        }
    }

    private async Task ObserveAsync(MarkerEntry entry, CancellationToken stop)
    {
        var parsed = _markers.Layout.ParseName(entry.RelativePath);
        if (parsed.Key is not { } parsedKey)
        {
            Ignore(entry.RelativePath, $"ignored marker: {parsed.Error}");
            return;
        }

        if (!_pipeline.TryGetJob(parsedKey.Job, out var job))
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': no job '{parsedKey.Job}' in the pipeline");
            return;
        }

        // One string per job name, not one per marker (a year of markers is ~10^6 keys).
        var key = new RunKey(job.Name, parsedKey.Partition);

        if (job.Grain != key.Partition.Grain)
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': job '{key.Job}' is {job.Grain.ToString().ToLowerInvariant()}, the partition is not");
            return;
        }

        _seenAtStart?.Add(key);
        if (_core.IsDone(key))
        {
            _settling.Forget(entry.RelativePath);
            return;
        }

        var stored = entry is { Size: 0, WrittenAt: { } written } ? new StoredMarker(MarkerBody.Empty, written) : await _markers.ReadStoredAsync(key, stop);
        if (stored is null)
        {
            _settling.Forget(entry.RelativePath);
            return;
        }

        if (stored.NotAMarker is { } reason)
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': it {reason}");
            return;
        }

        if (stored.Body.IsUnparsable && _settling.ShouldRecheck(entry.RelativePath, stored.WrittenAt, _time.GetUtcNow(), out var pending))
        {
            // Maybe still being written in place: read it again soon, judge it once it stops changing.
            if (!pending)
            {
                _ = RecheckLaterAsync(entry with { Size = null });
            }

            return;
        }

        _settling.Forget(entry.RelativePath);

        Counters.MarkerObserved();
        if (stored.Body.Warning is not null)
        {
            _logger.LogWarning("marker {Marker}: {Warning}", entry.RelativePath, stored.Body.Warning);
        }

        _pendingMarkers.Add(new ObservedMarker(key, stored.Body, stored.WrittenAt));
    }

    private async Task RecheckLaterAsync(MarkerEntry entry)
    {
        await Task.Delay(SettlingMarkers.RecheckEvery, _time, CancellationToken.None);
        _inbox.Writer.TryWrite(new Message.Recheck(entry));
    }

    /// <summary>
    /// Guarantee 7: a run the state records succeeded has its marker in the store. A marker the
    /// start-up rescan did not find (lost to a crash of an older version between the commit and
    /// the write, or deleted by hand) is written again from the body the state recorded.
    /// </summary>
    private void RestoreMissingMarkers(HashSet<RunKey> seen)
    {
        var restored = 0;
        foreach (var run in _core.Runs)
        {
            if (!run.IsDone || seen.Contains(run.Key))
            {
                continue;
            }

            _pending.MarkerWrites.Add(new SchedulerEffect.WriteMarker(run.Key, run.Marker ?? MarkerBody.Empty));
            if (++restored <= 20)
            {
                _logger.LogWarning("marker of {Job} {Partition} is missing although the run succeeded (generation {Generation}); written again", run.Key.Job, run.Key.Partition.Key, run.Generation);
            }
        }

        if (restored > 20)
        {
            _logger.LogWarning("{Count} missing markers of succeeded runs written again in all", restored);
        }
    }

    private void Ignore(string path, string message)
    {
        Counters.MarkerIgnored();
        if (_ignoredPaths.Add(path))
        {
            _logger.LogWarning("{Message}", message);
            Warning?.Invoke(message);
        }
    }

    private async Task RescanAsync(CancellationToken stop, int? flushEvery = null)
    {
        var n = 0;
        var every = flushEvery ?? _options.MaxBatch;
        await foreach (var entry in _markers.ScanAsync(stop))
        {
            await ObserveAsync(entry, stop);
            if (++n % every == 0)
            {
                await FlushAsync();
            }
        }
    }

    private async Task TakeRequestsAsync(CancellationToken stop)
    {
        // The store is the effect stage's while it works: let it finish what it was given first.
        await FlushAsync();
        await SettleAsync();
        foreach (var request in await PendingRequestsAsync(stop))
        {
            // Marked taken by the commit that stores what it decided (nothing, if it decided nothing).
            _pending.TakenRequests.Add(request.Id);
            if (request.ToInput(_time.GetUtcNow()) is { } input)
            {
                Apply(input);
            }
            else
            {
                _logger.LogWarning("request {Id} ({Kind}) is malformed (e.g. a partition outside {Range}) or not understood by this version; ignored", request.Id, request.Kind, Partition.SupportedRange);
                Warning?.Invoke($"request {request.Id} ({request.Kind}) is malformed or of an unknown kind; ignored");
            }
        }
    }

    /// <summary>
    /// The inbox, read every <see cref="EngineOptions.InboxInterval"/> and whenever the doorbell rings. A store that can no longer be
    /// trusted (its file deleted or replaced) fails here as a failed commit would: nothing more starts.
    /// </summary>
    private async ValueTask<IReadOnlyList<Request>> PendingRequestsAsync(CancellationToken stop)
    {
        try
        {
            return await _store.PendingRequestsAsync(stop);
        }
        catch (StateStoreException e)
        {
            Volatile.Write(ref _effectFailure, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e));
            throw;
        }
    }

    /// <summary>Markers read so far go to the core as one batch (all done before any downstream run is judged).</summary>
    private void ApplyMarkers()
    {
        if (_pendingMarkers.Count > 0)
        {
            var batch = _pendingMarkers.ToList();
            _pendingMarkers.Clear();
            Apply(new MarkersObserved(batch, _time.GetUtcNow()));
        }
    }

    private void Apply(SchedulerInput input)
    {
        if (input is not MarkersObserved)
        {
            ApplyMarkers();
        }

        foreach (var effect in _core.Handle(input))
        {
            switch (effect)
            {
                case SchedulerEffect.RunChanged change:
                    _pending.Changes.Add(change);
                    break;
                case SchedulerEffect.StartRun start:
                    _pending.Starts.Add(start.Activation);
                    break;
                case SchedulerEffect.CursorMoved cursor:
                    _pending.Cursors.Add(cursor);
                    break;
                case SchedulerEffect.SendAlert alert:
                    _pending.Alerts.Add(alert.Alert);
                    break;
                case SchedulerEffect.WriteMarker or SchedulerEffect.SupersedeMarker:
                    _pending.MarkerWrites.Add(effect);
                    break;
                case SchedulerEffect.CancelAttempt cancel:
                    if (_attempts.TryGetValue((cancel.Key, cancel.Generation, cancel.Attempt), out var cts))
                    {
                        try
                        {
                            cts.Cancel();
                        }
                        catch (ObjectDisposedException)
                        {
                            // the attempt ended meanwhile
                        }
                    }
                    else if (_pending.Starts.RemoveAll(a => a.Key == cancel.Key && a.Generation == cancel.Generation && a.Attempt == cancel.Attempt) > 0)
                    {
                        // Decided in the same batch as its start: never start it, and free its slot.
                        _inbox.Writer.TryWrite(new Message.Input(new RunExited(cancel.Key, cancel.Generation, cancel.Attempt, 137, null, _time.GetUtcNow())));
                    }

                    break;
                case SchedulerEffect.Warning w:
                    _logger.LogWarning("{Message}", w.Message);
                    Warning?.Invoke(w.Message);
                    break;
            }
        }
    }

    /// <summary>Hands the decisions of this loop pass to the effect stage (which commits them before it starts anything).</summary>
    private async Task FlushAsync()
    {
        ApplyMarkers();
        Volatile.Read(ref _effectFailure)?.Throw();
        if (_pending.IsEmpty)
        {
            return;
        }

        var batch = _pending;
        _pending = new Batch();
        foreach (var activation in batch.Starts)
        {
            // Counted and given its kill handle on the loop, before the stage sees it: idle checks
            // and cancels never miss an attempt that is on its way.
            Interlocked.Increment(ref _outstanding);
            _attempts[(activation.Key, activation.Generation, activation.Attempt)] = CancellationTokenSource.CreateLinkedTokenSource(_kill.Token);
        }

        await WriteBatchAsync(batch);
    }

    /// <summary>Waits until the effect stage has done everything handed to it so far.</summary>
    private async Task SettleAsync()
    {
        var batch = new Batch { Settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await WriteBatchAsync(batch);
        await batch.Settled.Task;
    }

    private async Task WriteBatchAsync(Batch batch)
    {
        try
        {
            await _effects.Writer.WriteAsync(batch);
        }
        catch (ChannelClosedException) when (Volatile.Read(ref _effectFailure) is not null)
        {
            _effectFailure!.Throw();
        }
    }

    /// <summary>
    /// The effect stage, one batch at a time, in order: markers, then the commit, alerts, and last
    /// the attempts. Markers go first so that the store is never behind the state: a kill between
    /// the two leaves a marker whose run the state does not yet record as succeeded (the start-up
    /// rescan reads it), or a replayed run's marker moved aside while the state still records the old
    /// generation (the start-up repair writes it back and the replay request, not yet taken, is
    /// taken again) — never a succeeded run without its marker, nor superseded data as done.
    /// A failed commit stops the stage and, through <see cref="FlushAsync"/>, the scheduler.
    /// </summary>
    private async Task EffectStageAsync()
    {
        Batch? current = null;
        try
        {
            await foreach (var batch in _effects.Reader.ReadAllAsync())
            {
                current = batch;
                await WriteMarkersAsync(batch.MarkerWrites);
                await CommitAsync(batch);
                foreach (var alert in batch.Alerts)
                {
                    _alerts?.Enqueue(alert);
                    AlertRaised?.Invoke(alert);
                }

                for (var i = 0; i < batch.Starts.Count; i++)
                {
                    var activation = batch.Starts[i];
                    Counters.AttemptStarted();
                    var attemptCts = _attempts[(activation.Key, activation.Generation, activation.Attempt)];

                    // The last start of the batch runs here up to its first wait (the process is then
                    // running), saving a thread hop on the path from marker to process; the others
                    // go to the pool first so that a burst starts on both cores.
                    _ = i == batch.Starts.Count - 1
                        ? ExecuteAsync(activation, attemptCts)
                        : Task.Run(() => ExecuteAsync(activation, attemptCts), CancellationToken.None);
                }

                batch.Settled?.TrySetResult();
                current = null;
            }
        }
        catch (Exception e)
        {
            // Nothing more is carried out (nothing uncommitted may start); the loop learns why and stops.
            Volatile.Write(ref _effectFailure, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e));
            _effects.Writer.TryComplete(e);
            if (current is not null)
            {
                Abandon(current, e);
            }

            while (_effects.Reader.TryRead(out var left))
            {
                Abandon(left, e);
            }

            _inbox.Writer.TryWrite(new Message.Wake());
        }
    }

    /// <summary>A batch that will never be carried out: its attempts were counted and given kill handles on the loop.</summary>
    private void Abandon(Batch batch, Exception reason)
    {
        foreach (var a in batch.Starts)
        {
            if (_attempts.TryRemove((a.Key, a.Generation, a.Attempt), out var cts))
            {
                cts.Dispose();
            }

            Interlocked.Decrement(ref _outstanding);
        }

        batch.Settled?.TrySetException(reason);
    }

    private async Task CommitAsync(Batch batch)
    {
        if (batch.Changes.Count == 0 && batch.Cursors.Count == 0 && batch.TakenRequests.Count == 0)
        {
            return;
        }

        await _store.CommitAsync(batch.Changes, batch.Cursors, batch.TakenRequests, CancellationToken.None);
        Counters.Committed();
        foreach (var change in batch.Changes)
        {
            RunChanged?.Invoke(change);
        }
    }

    private async Task WriteMarkersAsync(List<SchedulerEffect> writes)
    {
        if (_owedMarkers.Count > 0)
        {
            var owed = _owedMarkers.ToList<SchedulerEffect>();
            _owedMarkers.Clear();
            writes = [.. owed, .. writes];
        }

        foreach (var write in writes)
        {
            try
            {
                switch (write)
                {
                    case SchedulerEffect.WriteMarker w:
                        await _markers.WriteKnownAsync(w.Key, w.Body, CancellationToken.None);
                        break;
                    case SchedulerEffect.SupersedeMarker m:
                        _owedMarkers.RemoveAll(w => w.Key == m.Key);
                        await _markers.SupersedeAsync(m.Key, m.Generation, CancellationToken.None);
                        break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (write is SchedulerEffect.WriteMarker w)
                {
                    // Tried again with the next batch, and by the start-up repair if the scheduler stops first.
                    _owedMarkers.Add(w);
                    _logger.LogError("marker store: writing the marker of {Job} {Partition} failed: {Error} (tried again)", w.Key.Job, w.Key.Partition.Key, e.Message);
                }
                else
                {
                    _logger.LogError("marker store: {Error} (the next rescan moves a stale marker aside)", e.Message);
                }
            }
        }
    }

    private async Task ExecuteAsync(Activation a, CancellationTokenSource attemptCts)
    {
        SchedulerInput? result = null;
        try
        {
            var context = new AttemptContext(_markers.Locate(a.Key), LogFiles.PathOf(_options.LogDirectory, a.Key, a.Generation, a.Attempt))
            {
                Started = AttemptStarted is { } started ? () => started(a) : null,
                KillReason = () => _kill.IsCancellationRequested
                    ? "the scheduler stopped (the run is queued again on the next start)"
                    : "cancelled (by `cascade cancel`, or a replay replaced this attempt)",
            };
            AttemptOutcome outcome;
            try
            {
                // Cancelled between the decision and the start (a cancel or forced replay in the next loop pass): never started.
                outcome = attemptCts.IsCancellationRequested
                    ? new AttemptOutcome.Killed()
                    : await _executor.ExecuteAsync(a, context, attemptCts.Token);
            }
            finally
            {
                _attempts.TryRemove((a.Key, a.Generation, a.Attempt), out _);
                attemptCts.Dispose();
            }

            result = outcome switch
            {
                AttemptOutcome.Exited { ExitCode: 0 } => new RunExited(a.Key, a.Generation, a.Attempt, 0, await _markers.ReadAsync(a.Key, CancellationToken.None), _time.GetUtcNow()),
                AttemptOutcome.Exited e => new RunExited(a.Key, a.Generation, a.Attempt, e.ExitCode, null, _time.GetUtcNow()),
                AttemptOutcome.NotStarted n => new RunNotStarted(a.Key, a.Generation, a.Attempt, n.Reason, _time.GetUtcNow()),

                // Killed by a cancel or a forced replay (not by shutdown): the core sees a stale exit and frees the slot.
                AttemptOutcome.Killed when !_kill.IsCancellationRequested => new RunExited(a.Key, a.Generation, a.Attempt, 137, null, _time.GetUtcNow()),
                _ => null,
            };
        }
#pragma warning disable CA1031 // an executor fault must never crash the scheduler: it becomes the attempt's failure
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError("attempt {RunId} failed inside the executor: {Error}", a.RunId, e.Message);
            result = new RunNotStarted(a.Key, a.Generation, a.Attempt, $"executor error: {e.Message}", _time.GetUtcNow());
        }
        finally
        {
            if (result is not null)
            {
                _inbox.Writer.TryWrite(new Message.Input(result));
            }

            Interlocked.Decrement(ref _outstanding);
            // Wakes the loop after the count dropped, so `--until-idle` notices at once.
            _inbox.Writer.TryWrite(new Message.Wake());
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var entry in _markers.WatchAsync(cancellationToken))
            {
                _inbox.Writer.TryWrite(new Message.Notice(entry));
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
#pragma warning disable CA1031 // a broken watcher must not stop the scheduler: the periodic rescan still finds markers
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError("marker watcher stopped ({Error}); relying on the periodic rescan", e.Message);
        }
    }

    /// <summary>Like the watcher: each ring of the doorbell becomes a message; the loop never awaits the socket itself.</summary>
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        if (_doorbell is null)
        {
            return;
        }

        await Task.Yield();
        await foreach (var _ in _doorbell.RingsAsync(cancellationToken))
        {
            _inbox.Writer.TryWrite(new Message.RequestsWaiting());
        }
    }

    /// <summary>Starts nothing more, lets running attempts finish within the grace period, then kills the rest.</summary>
    private async Task ShutdownAsync()
    {
        if (_core is null)
        {
            return;
        }

        if (Volatile.Read(ref _effectFailure) is not null)
        {
            // Nothing can be committed any more: kill what runs (it is queued again on the next start) and stop.
            _logger.LogError("state store failed; killing {Count} running attempt(s), which are queued again on the next start", _outstanding);
            await _kill.CancelAsync();
            return;
        }

        Apply(new StopRequested(_time.GetUtcNow()));
        var deadline = _time.GetUtcNow() + _options.ShutdownGrace;
        while (true)
        {
            // The count first, then the inbox: an attempt posts its outcome before it leaves the
            // count, so once the count is 0 every outcome is in the inbox and this drain reads it.
            var outstanding = Volatile.Read(ref _outstanding);
            while (_inbox.Reader.TryRead(out var message))
            {
                if (message is Message.Input i)
                {
                    Apply(i.Value);
                }
            }

            await FlushAsync();
            if (outstanding == 0)
            {
                break;
            }

            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero && !_kill.IsCancellationRequested)
            {
                _logger.LogWarning("killing {Count} running attempt(s); they are queued again on the next start", outstanding);
                await _kill.CancelAsync();
            }

            await WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(50), CancellationToken.None);
        }

        await SettleAsync();
    }

    /// <summary>Stops waiting for running attempts: kills them now (they are queued again on the next start).</summary>
    public void KillRunning() => _kill.Cancel();

    public void Dispose() => _kill.Dispose();

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>The effects of one loop pass, in the order the effect stage carries them out.</summary>
    private sealed class Batch
    {
        public List<SchedulerEffect.RunChanged> Changes { get; } = [];

        public List<SchedulerEffect.CursorMoved> Cursors { get; } = [];

        public List<SchedulerEffect> MarkerWrites { get; } = [];

        public List<Alert> Alerts { get; } = [];

        public List<Activation> Starts { get; } = [];

        /// <summary>Inbox requests this batch answers: marked taken in its commit.</summary>
        public List<long> TakenRequests { get; } = [];

        /// <summary>Set once this batch, and so every batch before it, is done.</summary>
        public TaskCompletionSource? Settled { get; init; }

        public bool IsEmpty => Changes.Count == 0 && Cursors.Count == 0 && TakenRequests.Count == 0 && MarkerWrites.Count == 0 && Alerts.Count == 0 && Starts.Count == 0;
    }

    private abstract record Message
    {
        public sealed record Notice(MarkerEntry Entry) : Message;

        public sealed record Input(SchedulerInput Value) : Message;

        /// <summary>A marker whose body did not parse, to be read again (<see cref="SettlingMarkers"/>).</summary>
        public sealed record Recheck(MarkerEntry Entry) : Message;

        /// <summary>The CLI left a request (it rang the doorbell): read the inbox in this loop pass.</summary>
        public sealed record RequestsWaiting : Message;

        /// <summary>Nothing to apply: only makes the loop look at its state again.</summary>
        public sealed record Wake : Message;
    }
}
