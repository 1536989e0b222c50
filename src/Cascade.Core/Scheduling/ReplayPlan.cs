using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Core.Scheduling;

/// <summary>
/// One run a replay will re-run: why (the run above it that is replayed too) and what it is now.
/// <paramref name="Missing"/>: for a replayed run (depth 0), its inputs that are not done now (or
/// are replayed too); it starts at once only when there are none, else it waits for them.
/// </summary>
public sealed record PlannedRun(RunKey Key, int Depth, RunKey? Because, RunState? Current, int Generation, int NextGeneration, IReadOnlyList<RunKey> Missing)
{
    /// <summary>A replayed run of a command job whose inputs are all done: it is queued at once.</summary>
    public bool StartsAtOnce(Pipeline pipeline) => Depth == 0 && Missing.Count == 0 && pipeline[Key.Job].Run is not RunSpec.External;
}

/// <summary>
/// What a replay will do, computed the same way by <c>--dry-run</c> and by the scheduler: the
/// job's runs for the partitions, then (with downstream) every existing run reachable below them,
/// offsets included, up to the current partition. Upstream runs are never in it.
/// </summary>
public sealed record ReplayPlan(IReadOnlyList<PlannedRun> Runs)
{
    public const int MaxRuns = 100_000;

    public IEnumerable<PlannedRun> Running => Runs.Where(r => r.Current == RunState.Running);

    public static ReplayPlan Create(Pipeline pipeline, Func<RunKey, Run?> lookup, string job, Partition from, Partition to, bool downstream, DateTimeOffset now)
    {
        var runs = new List<PlannedRun>();
        var planned = new HashSet<RunKey>();
        for (var p = from; p <= to && runs.Count < MaxRuns; p = p.Add(1))
        {
            var key = new RunKey(job, p);
            var current = lookup(key);
            planned.Add(key);
            runs.Add(new PlannedRun(key, 0, null, current?.State, current?.Generation ?? 0, (current?.Generation ?? 0) + 1, []));
        }

        // A replayed run never starts on missing inputs (only trigger skips that check): an input is
        // missing when it is not done, or when it is replayed too (its new marker is to come).
        for (var i = 0; i < runs.Count; i++)
        {
            var key = runs[i].Key;
            List<RunKey> missing = [.. pipeline.InputsOf(key)
                .Where(input => planned.Contains(input.Key) || (lookup(input.Key) is not { IsDone: true } && !pipeline.IsSatisfiedByStart(key, input)))
                .Select(input => input.Key)];
            runs[i] = runs[i] with { Missing = missing };
        }

        if (!downstream)
        {
            return new ReplayPlan(runs);
        }

        // Breadth first, so every run appears below the first replayed run that reaches it.
        for (var i = 0; i < runs.Count && runs.Count < MaxRuns; i++)
        {
            var parent = runs[i];
            foreach (var key in pipeline.DownstreamOf(parent.Key).Order())
            {
                if (planned.Contains(key) || !pipeline.CanHaveRun(key) || key.Partition > pipeline.PartitionAt(now, key.Partition.Grain))
                {
                    continue;
                }

                // A run that never started (none yet, or still waiting) needs no replay: it follows reactively.
                if (lookup(key) is not { } current || current.State == RunState.Waiting)
                {
                    continue;
                }

                planned.Add(key);
                runs.Add(new PlannedRun(key, parent.Depth + 1, parent.Key, current.State, current.Generation, current.Generation + 1, []));
            }
        }

        return new ReplayPlan(runs);
    }
}
