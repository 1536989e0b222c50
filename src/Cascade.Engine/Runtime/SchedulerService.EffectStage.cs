using System.Threading.Channels;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Microsoft.Extensions.Logging;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Engine.Runtime;

/// <summary>The effect stage (ADR 6, 7): one batch at a time, in order — markers, then the commit, then
/// alerts, and last the attempts, which run on the executor and post their outcome to the inbox.</summary>
public sealed partial class SchedulerService
{
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
            if (_metrics is not null)
            {
                Measure(change);
            }

            if (change.Run.State == RunState.Succeeded && !_markerWaits.IsEmpty && _markerWaits.TryRemove((change.Run.Key, change.Run.Generation, change.Run.Attempt), out var waiting))
            {
                // A remote attempt ends by its marker: it is recorded now.
                waiting.TrySetResult();
            }

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
            // Only a remote run ends by its marker; a command's attempt ends by its exit, so it is not tracked here.
            TaskCompletionSource? markerObserved = null;
            var remote = _pipeline[a.Key.Job].Run as Core.Pipelines.RunSpec.Http;
            if (remote is not null)
            {
                markerObserved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _markerWaits[(a.Key, a.Generation, a.Attempt)] = markerObserved;
            }

            var context = new AttemptContext(_markers.Locate(a.Key), LogFiles.PathOf(_options.LogDirectory, a.Key, a.Generation, a.Attempt))
            {
                MarkerObserved = markerObserved?.Task,
                Started = AttemptStarted is not null || _metrics is not null ? () => OnStarted(a) : null,
                KillReason = () => _kill.IsCancellationRequested
                    ? remote is null ? "the scheduler stopped (the run is queued again on the next start)"
                        : remote.Request.OnRestart == Core.Pipelines.RemoteRestart.Wait ? "the scheduler stopped (the activation is not sent again: the next start goes on waiting for the marker; on_restart: wait)"
                        : "the scheduler stopped (the next start sends this attempt again; on_restart: resend)"
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
                if (markerObserved is not null)
                {
                    _markerWaits.TryRemove((a.Key, a.Generation, a.Attempt), out _);
                }

                attemptCts.Dispose();
            }

            result = outcome switch
            {
                AttemptOutcome.Exited { ExitCode: 0 } => new RunExited(a.Key, a.Generation, a.Attempt, 0, await _markers.ReadAsync(a.Key, CancellationToken.None), _time.GetUtcNow()),
                AttemptOutcome.Exited e => new RunExited(a.Key, a.Generation, a.Attempt, e.ExitCode, null, _time.GetUtcNow()),
                AttemptOutcome.NotStarted n => new RunNotStarted(a.Key, a.Generation, a.Attempt, n.Reason, _time.GetUtcNow()),
                AttemptOutcome.Failed f => new RunFailed(a.Key, a.Generation, a.Attempt, f.Reason, f.Retry, _time.GetUtcNow()),

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

    /// <summary>Metrics of a committed change: an attempt's end, or a first attempt about to start (its decision time kept until its process runs).</summary>
    private void Measure(SchedulerEffect.RunChanged change)
    {
        var run = change.Run;
        if (change.Event == "started" && run.Attempt == 1)
        {
            var afterUpstream = run.Cause == "inputs" && !_pipeline[run.Key.Job].IsRoot;
            _activating[(run.Key, run.Generation)] = (run.QueuedAt ?? run.CreatedAt, afterUpstream);
        }
        else if (run.Attempt > 0 && change.Event is "succeeded" or "retry" or "failed" or "interrupted" or "timed_out" or "exited" or "cancelled" or "superseded")
        {
            _metrics!.AttemptEnded(change);
        }
    }

    private void OnStarted(Activation a)
    {
        if (a.Attempt == 1 && _metrics is not null && _activating.TryRemove((a.Key, a.Generation), out var decided))
        {
            _metrics.Activated(a.Key.Job, _time.GetUtcNow() - decided.QueuedAt, decided.AfterUpstream);
        }

        AttemptStarted?.Invoke(a);
    }

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
}
