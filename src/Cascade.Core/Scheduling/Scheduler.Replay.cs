using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Core.Scheduling;

/// <summary>
/// Replay (new generations), backfill (many partitions, bounded) and cancel.
/// A replayed run's old marker is superseded (moved aside by the engine); a marker written before
/// the replay is stale and ignored, so nothing downstream ever starts on an old marker.
/// </summary>
public sealed partial class Scheduler
{
    private const string BackfillCursor = "backfill:";
    private readonly Dictionary<string, int> _backfillLimits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _runningPerBackfill = new(StringComparer.Ordinal);

    private void OnReplay(ReplayRequested r)
    {
        if (!_pipeline.TryGetJob(r.Job, out var job) || job.Grain != r.From.Grain || job.Grain != r.To.Grain || r.From > r.To)
        {
            Warn($"replay ignored: '{r.Job}' {r.From.Key}..{r.To.Key} does not name a job and a partition range of its grain");
            return;
        }

        if (!r.From.IsSupported || !r.To.IsSupported)
        {
            Warn("replay ignored: " + Partition.RangeError($"{r.From.Key}..{r.To.Key}"));
            return;
        }

        var plan = ReplayPlan.Create(_pipeline, Get, r.Job, r.From, r.To, r.Downstream, r.At);
        var running = plan.Running.ToList();
        if (running.Count > 0 && !r.Force)
        {
            Warn($"replay of {r.Job} {r.From.Key}..{r.To.Key} refused: {string.Join(", ", running.Select(p => p.Key))} still running (use --force to kill and replay)");
            return;
        }

        var follow = new List<RunKey>();
        foreach (var planned in plan.Runs)
        {
            var wasBroken = _runs.GetValueOrDefault(planned.Key) is { IsBroken: true };
            var fresh = OpenGeneration(planned.Key, r.At, "replay");

            // The replayed job starts at once only when its inputs are all done; otherwise (an input
            // never done, or replayed too: a range of a running total) it waits for them like every
            // run below, with its normal wait deadline.
            if (planned.StartsAtOnce(_pipeline))
            {
                Enqueue(fresh, "replay", r.At);
            }
            else
            {
                follow.Add(planned.Key);
            }

            if (wasBroken)
            {
                Mend(planned.Key, r.At);
            }
        }

        foreach (var key in follow)
        {
            Evaluate(key, r.At);
        }
    }

    /// <summary>Supersedes the current run of a key (killing its attempt if running) and opens the next generation, waiting.</summary>
    private Run OpenGeneration(RunKey key, DateTimeOffset at, string cause)
    {
        _waitingInputs.Clear(); // a done input may be done no more

        var old = _runs.GetValueOrDefault(key);
        var generation = 1;
        if (old is not null)
        {
            generation = old.Generation + 1;
            Unqueue(key);
            if (old.State == RunState.Running)
            {
                _effects.Add(new CancelAttempt(key, old.Generation, old.Attempt));
            }

            _slaMissed.Remove(key);
            Change(old with { State = RunState.Superseded, FinishedAt = old.FinishedAt ?? at, NextRetryAt = null, WaitDeadline = null }, "superseded", $"replaced by generation {generation}");
            _effects.Add(new SupersedeMarker(key, old.Generation));
        }

        var fresh = NewRun(key, at) with { Generation = generation, Cause = cause };
        Change(fresh, "waiting", $"generation {generation} ({cause})");
        if (old is { IsDone: true })
        {
            RequeueBelow(key);
        }

        return fresh;
    }

    /// <summary>
    /// A done input is done no more: runs below it that were queued on it but have not started
    /// wait for its new marker again (a queued run never starts on an input being recomputed).
    /// Triggered runs skip the input check on purpose and stay queued.
    /// </summary>
    private void RequeueBelow(RunKey input)
    {
        foreach (var key in _pipeline.DownstreamOf(input).Order())
        {
            if (_runs.GetValueOrDefault(key) is { State: RunState.Queued } run && run.Cause != "trigger")
            {
                Unqueue(key);
                Change(run with { State = RunState.Waiting, NextRetryAt = null }, "waiting", $"input {input.Job} {input.Partition.Key} is replayed: waiting for its new marker");
            }
        }
    }

    private void OnBackfill(BackfillRequested b)
    {
        if (!Partition.IsSupportedDate(b.From) || !Partition.IsSupportedDate(b.To))
        {
            Warn($"backfill {b.Id} ignored: " + Partition.RangeError($"{b.From:yyyy-MM-dd}..{b.To:yyyy-MM-dd}"));
            return;
        }

        var jobs = b.Jobs.Count > 0 ? b.Jobs.Where(_pipeline.Contains).ToList() : _pipeline.Jobs.Where(j => j.IsRoot).Select(j => j.Name).ToList();
        if (b.MaxParallel is { } limit)
        {
            _backfillLimits[b.Id] = limit;
            _effects.Add(new CursorMoved(BackfillCursor + b.Id, limit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var queued = 0;
        var waiting = 0;
        for (var date = b.From; date <= b.To; date = date.AddDays(1))
        {
            foreach (var name in jobs)
            {
                var job = _pipeline[name];
                if (job.Run is RunSpec.External)
                {
                    continue;
                }

                var partitions = job.Grain == Grain.Daily ? [Partition.Day(date)] : Partition.Day(date).Hours();
                foreach (var partition in partitions)
                {
                    var key = new RunKey(name, partition);
                    if (!_pipeline.CanHaveRun(key))
                    {
                        continue;
                    }

                    var run = _runs.GetValueOrDefault(key);
                    if (run is not (null or { State: RunState.Waiting } or { IsBroken: true }))
                    {
                        continue;
                    }

                    var fresh = (run ?? NewRun(key, b.At)) with { Backfill = b.Id, Failures = 0, Reason = null };
                    if (InputsReady(key))
                    {
                        Enqueue(fresh, "backfill", b.At);
                    }
                    else
                    {
                        // A named job below others never starts on incomplete inputs (unlike trigger):
                        // it waits for them as part of this backfill, and starts when they are done.
                        Change(fresh with { State = RunState.Waiting, Cause = "backfill", FinishedAt = null, WaitDeadline = run is { State: RunState.Waiting } ? run.WaitDeadline : null, NextRetryAt = null }, "waiting", $"backfill {b.Id}: waiting for its inputs");
                        Evaluate(key, b.At);
                        waiting++;
                    }

                    if (run is { IsBroken: true })
                    {
                        Mend(key, b.At);
                    }

                    queued++;
                }
            }
        }

        if (queued == 0)
        {
            Warn($"backfill {b.Id}: nothing to run between {b.From:yyyy-MM-dd} and {b.To:yyyy-MM-dd} (every run is done, running or before its start)");
        }
        else if (waiting > 0)
        {
            Warn($"backfill {b.Id}: {waiting} run(s) wait for inputs that are not done yet; they start when their inputs are done (`cascade why JOB PARTITION`)");
        }
    }

    private void OnCancel(CancelRequested c)
    {
        if (c.Key is null && c.Backfill is null)
        {
            Warn("cancel ignored: it names neither a run nor a backfill");
            return;
        }

        var targets = c.Key is { } first
            ? c.To is { } last && last != first.Partition
                ? _runs.Values.Where(r => r.Key.Job == first.Job && r.Key.Partition >= first.Partition && r.Key.Partition <= last).OrderBy(r => r.Key).ToList()
                : _runs.TryGetValue(first, out var single) ? [single] : []
            : _runs.Values.Where(r => r.Backfill == c.Backfill).OrderBy(r => r.Key).ToList();
        var cancelled = 0;
        foreach (var run in targets)
        {
            if (!run.State.IsCancellable())
            {
                continue;
            }

            Unqueue(run.Key);
            if (run.State == RunState.Running)
            {
                _effects.Add(new CancelAttempt(run.Key, run.Generation, run.Attempt));
            }

            Change(run with { State = RunState.Failed, Reason = "cancelled", FinishedAt = c.At, NextRetryAt = null, WaitDeadline = null }, "cancelled", c.Backfill is null ? "cancelled" : $"backfill {c.Backfill} cancelled");
            cancelled++;
        }

        if (c.Backfill is { } id)
        {
            _backfillLimits.Remove(id);
            _effects.Add(new CursorMoved(BackfillCursor + id, null));
        }

        if (cancelled == 0)
        {
            var what = c.Key is { } k ? c.To is { } to && to != k.Partition ? $"{k.Job} {k.Partition.Key}..{to.Key}" : k.ToString() : "backfill " + c.Backfill;
            Warn($"cancel: nothing waiting, queued or running for {what}");
        }
    }

    /// <summary>A marker written before its run was replayed belongs to the old generation.</summary>
    private static bool IsStale(Run? run, DateTimeOffset? writtenAt) =>
        run is { Generation: > 1 } && writtenAt is { } w && w < run.CreatedAt;

    private void RestoreBackfills(IReadOnlyDictionary<string, string> cursors)
    {
        foreach (var (name, value) in cursors)
        {
            if (name.StartsWith(BackfillCursor, StringComparison.Ordinal) && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var limit))
            {
                _backfillLimits[name[BackfillCursor.Length..]] = limit;
            }
        }
    }

    private bool BackfillHasRoom(Run run, Dictionary<string, int> planned) =>
        run.Backfill is not { } id
        || !_backfillLimits.TryGetValue(id, out var limit)
        || _runningPerBackfill.GetValueOrDefault(id) + planned.GetValueOrDefault("backfill:" + id) < limit;
}
