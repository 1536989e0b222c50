using System.Threading.Channels;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Executors;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Notifications;
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
/// <para>Split by concern: this file is the loop (start-up, passes, requests, shutdown);
/// <c>SchedulerService.Sources.cs</c> what feeds it (markers, rescans, the doorbell);
/// <c>SchedulerService.EffectStage.cs</c> what carries its decisions out.</para>
/// </summary>
public sealed partial class SchedulerService : IDisposable
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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(RunKey Key, int Generation, int Attempt), TaskCompletionSource> _markerWaits = new(); // attempts that end by their marker (remote runs)
    private readonly AlertDispatcher? _alerts;
    private readonly SchedulerMetrics? _metrics;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(RunKey Key, int Generation), (DateTimeOffset QueuedAt, bool AfterUpstream)> _activating = new();
    private readonly SchedulerLock? _doorbell; // rung by the CLI after it leaves a request: read the inbox now
    private readonly IReadOnlyList<INotificationSource> _sources; // pulled notifications (an SQS queue), run once the start-up is committed
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
        SchedulerLock? doorbell = null,
        SchedulerMetrics? metrics = null,
        IReadOnlyList<INotificationSource>? sources = null)
    {
        _sources = sources ?? [];
        _metrics = metrics;
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

    /// <summary>Whether the start-up rescan and recovery are committed (<see cref="Ready"/> was raised).</summary>
    public bool IsReady => Volatile.Read(ref _ready);

    private bool _ready;

    /// <summary>Runs until <paramref name="stop"/> is cancelled (or, with <see cref="EngineOptions.UntilIdle"/>, until idle).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        _core = new Scheduler(_pipeline, new SchedulerOptions { MaxParallel = _options.MaxParallel, HoldUntilStarted = true }, await _store.LoadAsync(stop));
        using var loop = new CancellationTokenSource();
        _effectStage = Task.Run(EffectStageAsync, CancellationToken.None);
        var watch = WatchAsync(loop.Token);
        var rings = ListenAsync(loop.Token);
        using var pulling = CancellationTokenSource.CreateLinkedTokenSource(stop, loop.Token); // a stop ends a long poll at once, not after the shutdown grace
        var pulled = Task.CompletedTask;
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
            Volatile.Write(ref _ready, true);
            Ready?.Invoke();
            pulled = PullAsync(pulling.Token);
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
                await pulled;
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

        // The other wait ends cancelled and is not awaited: no exception is thrown on this path,
        // which the loop takes about once per attempt that ends.
        await cts.CancelAsync();
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

    private async Task TakeRequestsAsync(CancellationToken stop)
    {
        // The store is the effect stage's while it works: let it finish what it was given first.
        await FlushAsync();
        await SettleAsync();
        foreach (var request in await PendingRequestsAsync(stop))
        {
            // Marked taken by the commit that stores what it decided (nothing, if it decided nothing).
            _pending.TakenRequests.Add(request.Id);
            if (request.Kind == Request.Notice)
            {
                // Markers a notification named (ADR 19): read from the store as the watcher's are; only a hint.
                foreach (var entry in request.Notices())
                {
                    await ObserveAsync(entry, stop);
                }
            }
            else if (request.ToInput(_time.GetUtcNow()) is { } input)
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
