using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;

namespace Cascade.Core.Scheduling;

/// <summary>
/// Broken chains: a run that times out or fails marks every run downstream of it (transitively,
/// offsets included) <see cref="RunState.UpstreamFailed"/> without starting it, and raises one
/// alert. Runs of partitions that have not begun yet are marked when they first appear.
/// </summary>
public sealed partial class Scheduler
{
    private const int MaxBrokenPerEvent = 100_000;

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

    /// <summary>Marks the runs below <paramref name="root"/> upstream_failed; returns the jobs it broke.</summary>
    private List<string> BreakChainBelow(RunKey root, DateTimeOffset now)
    {
        var brokenJobs = new SortedSet<string>(StringComparer.Ordinal);
        var queue = new Queue<RunKey>([root]);
        var seen = new HashSet<RunKey> { root };
        while (queue.Count > 0 && seen.Count < MaxBrokenPerEvent)
        {
            var cause = queue.Dequeue();
            foreach (var key in _pipeline.DownstreamOf(cause))
            {
                if (!seen.Add(key) || _pipeline.IsBeforeStart(key) || key.Partition > _pipeline.PartitionAt(now, key.Partition.Grain))
                {
                    continue;
                }

                var run = _runs.GetValueOrDefault(key);
                if (run is not null && run.State is not (RunState.Waiting or RunState.Queued))
                {
                    continue;
                }

                if (run is not null)
                {
                    Unqueue(key);
                }

                var reason = $"input {cause.Job} {cause.Partition.Key} is {_runs[cause].State.Name()}";
                Change((run ?? NewRun(key, now)) with { State = RunState.UpstreamFailed, Reason = reason, FinishedAt = now, WaitDeadline = null, NextRetryAt = null }, "upstream_failed", reason);
                brokenJobs.Add(key.Job);
                queue.Enqueue(key);
            }
        }

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

    /// <summary>A broken run was queued again (trigger): the runs it broke wait for it again.</summary>
    private void Mend(RunKey root, DateTimeOffset now)
    {
        _waitingInputs.Clear();
        var queue = new Queue<RunKey>([root]);
        var seen = new HashSet<RunKey> { root };
        while (queue.Count > 0 && seen.Count < MaxBrokenPerEvent)
        {
            foreach (var key in _pipeline.DownstreamOf(queue.Dequeue()))
            {
                if (!seen.Add(key) || _runs.GetValueOrDefault(key) is not { State: RunState.UpstreamFailed } run)
                {
                    continue;
                }

                if (_pipeline.InputsOf(key).Any(i => _runs.GetValueOrDefault(i.Key) is { IsBroken: true }))
                {
                    continue;
                }

                Change(run with { State = RunState.Waiting, Reason = null, FinishedAt = null }, "mended", $"input {root.Job} {root.Partition.Key} is running again");
                queue.Enqueue(key);
            }
        }
    }

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
