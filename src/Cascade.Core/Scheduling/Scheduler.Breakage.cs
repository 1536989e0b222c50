using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;

namespace Cascade.Core.Scheduling;

/// <summary>
/// Broken chains: a run that times out or fails marks every run downstream of it (transitively,
/// offsets included) <see cref="RunState.UpstreamFailed"/> without starting it, and raises one
/// alert — only where their partitions exist (<see cref="PartitionExists"/>). Runs of partitions that
/// have not begun yet are marked when they first appear (<see cref="Evaluate"/>).
/// </summary>
public sealed partial class Scheduler
{
    private const int MaxBrokenPerEvent = 100_000;
    private (DateTime First, DateTime Last)? _runSpan;

    private void TimeOut(Run run, DateTimeOffset now)
    {
        var timeout = _pipeline[run.Key.Job].WaitTimeout ?? TimeSpan.Zero;
        var missing = MissingInputs(run.Key);
        var reason = $"timed out after waiting {Duration.Format(timeout)} for {Summarize(missing)}";
        var timedOut = run with { State = RunState.TimedOut, FinishedAt = now, Reason = reason, WaitDeadline = run.WaitDeadline };
        Change(timedOut, "timed_out", reason);
        var broken = BreakChainBelow(run.Key, now);
        Alert(AlertKind.TimedOut, timedOut, now, reason, missing, broken);
    }

    /// <summary>Marks the runs below <paramref name="root"/> upstream_failed where their partitions exist; returns the jobs it broke.</summary>
    private List<string> BreakChainBelow(RunKey root, DateTimeOffset now)
    {
        var brokenJobs = new SortedSet<string>(StringComparer.Ordinal);
        WalkBelow(root, now, (key, cause) =>
        {
            var run = _runs.GetValueOrDefault(key);
            if (run is not null && run.State is not (RunState.Waiting or RunState.Queued))
            {
                return false;
            }

            if (run is not null)
            {
                Unqueue(key);
            }

            var reason = $"input {cause.Job} {cause.Partition.Key} is {_runs[cause].State.Name()}";
            Change((run ?? NewRun(key, now)) with { State = RunState.UpstreamFailed, Reason = reason, FinishedAt = now, WaitDeadline = null, NextRetryAt = null }, "upstream_failed", reason);
            brokenJobs.Add(key.Job);
            return true;
        });
        return [.. brokenJobs];
    }

    /// <summary>A run with a broken input: upstream_failed at once, and so is everything below it.</summary>
    private void MarkUpstreamFailed(RunKey key, RunKey brokenInput, DateTimeOffset now)
    {
        var run = _runs.GetValueOrDefault(key);
        if (run is not null)
        {
            Unqueue(key);
        }

        var reason = $"input {brokenInput.Job} {brokenInput.Partition.Key} is {_runs[brokenInput].State.Name()}";
        Change((run ?? NewRun(key, now)) with { State = RunState.UpstreamFailed, Reason = reason, FinishedAt = now, WaitDeadline = null }, "upstream_failed", reason);
        BreakChainBelow(key, now);
    }

    /// <summary>A broken run was queued again (trigger, replay, backfill): the runs it broke wait for it again.</summary>
    private void Mend(RunKey root, DateTimeOffset now)
    {
        _waitingInputs.Clear();
        WalkBelow(root, now, (key, _) =>
        {
            if (_runs.GetValueOrDefault(key) is not { State: RunState.UpstreamFailed } run
                || _pipeline.InputsOf(key).Any(i => _runs.GetValueOrDefault(i.Key) is { IsBroken: true }))
            {
                return false;
            }

            Change(run with { State = RunState.Waiting, Reason = null, FinishedAt = null }, "mended", $"input {root.Job} {root.Partition.Key} is running again");
            return true;
        });
    }

    /// <summary>
    /// Visits the runs below <paramref name="root"/> breadth first (offsets included), only where
    /// their partitions exist (<see cref="PartitionExists"/>): breakage is bounded by what exists,
    /// never an open-ended series of future days (spec §4). A partition that does not exist is not
    /// visited, but the walk goes on through it within the span of partitions that have runs (the
    /// runahead bound), so an existing run beyond a gap (a running total whose yesterday never
    /// began) is reached. A partition that does not exist yet is judged when it first appears
    /// (<see cref="Evaluate"/>: a run with a broken input is upstream_failed at once).
    /// <paramref name="visit"/> gets the key and the nearest visited run above it, and says whether
    /// to go on below the key.
    /// </summary>
    private void WalkBelow(RunKey root, DateTimeOffset now, Func<RunKey, RunKey, bool> visit)
    {
        var queue = new Queue<(RunKey Key, RunKey Cause)>([(root, root)]);
        var seen = new HashSet<RunKey> { root };
        var today = (Daily: _pipeline.PartitionAt(now, Grain.Daily), Hourly: _pipeline.PartitionAt(now, Grain.Hourly));
        while (queue.Count > 0 && seen.Count < MaxBrokenPerEvent)
        {
            var (from, cause) = queue.Dequeue();
            foreach (var key in _pipeline.DownstreamOf(from))
            {
                if (!seen.Add(key) || !_pipeline.CanHaveRun(key) || key.Partition > (key.Partition.Grain == Grain.Daily ? today.Daily : today.Hourly))
                {
                    continue;
                }

                if (PartitionExists(key))
                {
                    if (visit(key, cause))
                    {
                        queue.Enqueue((key, key));
                    }
                }
                else if (_runSpan is (DateTime first, DateTime last) && key.Partition.Start >= first && key.Partition.Start <= last)
                {
                    queue.Enqueue((key, cause));
                }
            }
        }
    }

    /// <summary>
    /// Whether something reached the run's partition: a run of it, a done input, or a run of an
    /// input of the same partition (offset 0: the day a broken run belongs to exists). An input of
    /// another partition that is merely broken does not make a partition exist: yesterday's failed
    /// running total does not create today's run.
    /// </summary>
    private bool PartitionExists(RunKey key) =>
        _runs.ContainsKey(key) || _pipeline.InputsOf(key).Any(i => i.Dependency.Offset == 0 ? _runs.ContainsKey(i.Key) : IsDone(i.Key));

    /// <summary>Widens the span of partition starts that have runs (the bound of <see cref="WalkBelow"/>).</summary>
    private void NoteRunSpan(Partition partition) =>
        _runSpan = _runSpan is (DateTime first, DateTime last)
            ? (partition.Start < first ? partition.Start : first, partition.Start > last ? partition.Start : last)
            : (partition.Start, partition.Start);

    private void RecordLateMarker(Run run, DateTimeOffset at)
    {
        const string Late = "late marker";
        if (run.Warnings.Any(w => w.StartsWith(Late, StringComparison.Ordinal)))
        {
            return;
        }

        var note = $"{Late} at {at.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z: the run stays {run.State.Name()} until replayed";
        Change(run with { Warnings = [.. run.Warnings, note] }, "late", note);
    }

    private void RecordLateInputs(Run run, DateTimeOffset at)
    {
        foreach (var input in _pipeline.InputsOf(run.Key))
        {
            var note = $"late input {input.Key.Job} {input.Key.Partition.Key}";
            if (IsDone(input.Key) && !run.Warnings.Any(w => w.StartsWith(note, StringComparison.Ordinal)) && _runs[input.Key].FinishedAt >= run.FinishedAt)
            {
                run = run with { Warnings = [.. run.Warnings, $"{note} done at {at.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z (after the timeout; the chain stays broken until replayed)"] };
                Change(run, "late", note);
            }
        }
    }

    /// <summary>Inputs neither done nor satisfied by start, as "job partition".</summary>
    private List<string> MissingInputs(RunKey key) =>
        [.. _pipeline.InputsOf(key).Where(i => !IsMet(key, i)).Select(i => $"{i.Key.Job} {i.Key.Partition.Key}")];

    private static string Summarize(List<string> missing) =>
        missing.Count == 0 ? "nothing"
        : missing.Count <= 4 ? string.Join(", ", missing)
        : $"{string.Join(", ", missing.Take(3))} and {missing.Count - 3} more";

    private void Alert(AlertKind kind, Run run, DateTimeOffset at, string summary, List<string> missing, List<string> broken) =>
        _effects.Add(new SendAlert(new Alert(kind, run.Key, at, summary, missing, broken, run.Attempt, run.ExitCode)));
}
