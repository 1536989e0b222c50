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
    private readonly HashSet<string> _ignoredPaths = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _kill = new();
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
        AlertDispatcher? alerts = null)
    {
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
        try
        {
            await RescanAsync(stop, flushEvery: _options.MaxBatch * 16);
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
            if (_options.UntilIdle && _core.IsIdle && Volatile.Read(ref _outstanding) == 0 && _inbox.Reader.Count == 0)
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

            if (now >= nextInbox)
            {
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
            case Message.Input i:
                Apply(i.Value);
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

        if (_core.IsDone(key))
        {
            return;
        }

        var stored = entry is { Size: 0, WrittenAt: { } written } ? new StoredMarker(MarkerBody.Empty, written) : await _markers.ReadStoredAsync(key, stop);
        if (stored is null)
        {
            return;
        }

        Counters.MarkerObserved();
        if (stored.Body.Warning is not null)
        {
            _logger.LogWarning("marker {Marker}: {Warning}", entry.RelativePath, stored.Body.Warning);
        }

        _pendingMarkers.Add(new ObservedMarker(key, stored.Body, stored.WrittenAt));
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
        foreach (var request in await _store.PendingRequestsAsync(stop))
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
    /// The effect stage, one batch at a time, in order: commit, then markers (after the commit that
    /// decided them, before the starts that may read them), alerts, and last the attempts.
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
                await CommitAsync(batch);
                await WriteMarkersAsync(batch.MarkerWrites);
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
                        await _markers.SupersedeAsync(m.Key, m.Generation, CancellationToken.None);
                        break;
                }
            }
            catch (IOException e)
            {
                _logger.LogError("marker store: {Error} (the next rescan reconciles)", e.Message);
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
            _logger.LogError(e, "attempt {RunId} failed inside the executor", a.RunId);
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
            _logger.LogError(e, "marker watcher stopped; relying on the periodic rescan");
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
        while (Volatile.Read(ref _outstanding) > 0)
        {
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero && !_kill.IsCancellationRequested)
            {
                _logger.LogWarning("killing {Count} running attempt(s); they are queued again on the next start", _outstanding);
                await _kill.CancelAsync();
            }

            await WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(50), CancellationToken.None);
            while (_inbox.Reader.TryRead(out var message))
            {
                if (message is Message.Input i)
                {
                    Apply(i.Value);
                }
            }

            await FlushAsync();
        }

        await FlushAsync();
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

        /// <summary>Nothing to apply: only makes the loop look at its state again.</summary>
        public sealed record Wake : Message;
    }
}
