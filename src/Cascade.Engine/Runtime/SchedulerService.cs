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
/// The scheduler process: one event loop around the pure <see cref="Scheduler"/>. Marker notices,
/// attempt outcomes, inbox requests and timers become inputs; the resulting run changes of a batch
/// are committed in one transaction (group commit), and only then are attempts started.
/// Only the loop touches the core, so the core needs no locks.
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
    private readonly List<SchedulerEffect.RunChanged> _pendingChanges = [];
    private readonly List<Activation> _pendingStarts = [];
    private readonly List<SchedulerEffect.CursorMoved> _pendingCursors = [];
    private readonly List<Alert> _pendingAlerts = [];
    private readonly List<ObservedMarker> _pendingMarkers = [];
    private readonly List<SchedulerEffect> _pendingMarkerWrites = [];
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

    /// <summary>Raised on the loop after a change is committed.</summary>
    public event Action<SchedulerEffect.RunChanged>? RunChanged;

    /// <summary>Raised on the loop for everything ignored (bad markers, refused triggers).</summary>
    public event Action<string>? Warning;

    /// <summary>Raised on the loop for every alert, after the decision behind it is committed.</summary>
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
        var watch = WatchAsync(loop.Token);
        try
        {
            await RescanAsync(stop, flushEvery: _options.MaxBatch * 16);
            Apply(new SchedulerStarted(_time.GetUtcNow()));
            await TakeRequestsAsync(stop);
            await FlushAsync();
            Ready?.Invoke();
            await LoopAsync(stop);
        }
        finally
        {
            await ShutdownAsync();
            await loop.CancelAsync();
            await watch;
        }
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var nextInbox = _time.GetUtcNow() + _options.InboxInterval;
        var nextRescan = _time.GetUtcNow() + _options.RescanInterval;
        while (!stop.IsCancellationRequested)
        {
            if (_options.UntilIdle && _core.IsIdle && _outstanding == 0 && _inbox.Reader.Count == 0)
            {
                await TakeRequestsAsync(stop);
                await FlushAsync();
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
        foreach (var request in await _store.TakeRequestsAsync(stop))
        {
            if (request.ToInput(_time.GetUtcNow()) is { } input)
            {
                Apply(input);
            }
            else
            {
                _logger.LogWarning("request {Id} ({Kind}) is not understood by this version; ignored", request.Id, request.Kind);
                Warning?.Invoke($"request {request.Id} of unknown kind '{request.Kind}' ignored");
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
                    _pendingChanges.Add(change);
                    break;
                case SchedulerEffect.StartRun start:
                    _pendingStarts.Add(start.Activation);
                    break;
                case SchedulerEffect.CursorMoved cursor:
                    _pendingCursors.Add(cursor);
                    break;
                case SchedulerEffect.SendAlert alert:
                    _pendingAlerts.Add(alert.Alert);
                    break;
                case SchedulerEffect.WriteMarker or SchedulerEffect.SupersedeMarker:
                    _pendingMarkerWrites.Add(effect);
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
                    else if (_pendingStarts.RemoveAll(a => a.Key == cancel.Key && a.Generation == cancel.Generation && a.Attempt == cancel.Attempt) > 0)
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

    /// <summary>Commits the batch's decisions, then (and only then) starts its attempts.</summary>
    private async Task FlushAsync()
    {
        ApplyMarkers();
        if (_pendingChanges.Count > 0 || _pendingCursors.Count > 0)
        {
            await _store.CommitAsync(_pendingChanges, _pendingCursors, CancellationToken.None);
            Counters.Committed();
            foreach (var change in _pendingChanges)
            {
                RunChanged?.Invoke(change);
            }

            _pendingChanges.Clear();
            _pendingCursors.Clear();
        }

        // Marker changes follow the commit that decided them and precede the starts that depend on them.
        foreach (var write in _pendingMarkerWrites)
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

        _pendingMarkerWrites.Clear();

        foreach (var alert in _pendingAlerts)
        {
            _alerts?.Enqueue(alert);
            AlertRaised?.Invoke(alert);
        }

        _pendingAlerts.Clear();

        foreach (var activation in _pendingStarts)
        {
            Interlocked.Increment(ref _outstanding);
            Counters.AttemptStarted();

            // The kill handle exists before the attempt starts, so a cancel can never miss it.
            var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(_kill.Token);
            _attempts[(activation.Key, activation.Generation, activation.Attempt)] = attemptCts;
            _ = Task.Run(() => ExecuteAsync(activation, attemptCts), CancellationToken.None);
        }

        _pendingStarts.Clear();
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
                outcome = await _executor.ExecuteAsync(a, context, attemptCts.Token);
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
    }

    /// <summary>Stops waiting for running attempts: kills them now (they are queued again on the next start).</summary>
    public void KillRunning() => _kill.Cancel();

    public void Dispose() => _kill.Dispose();

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private abstract record Message
    {
        public sealed record Notice(MarkerEntry Entry) : Message;

        public sealed record Input(SchedulerInput Value) : Message;

        /// <summary>Nothing to apply: only makes the loop look at its state again.</summary>
        public sealed record Wake : Message;
    }
}
