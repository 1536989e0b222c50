using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

/// <summary>
/// Every run a backfill is about, known before it starts: the runs of the jobs it starts from and of
/// every job after them, for each partition of the range (from each job's <c>start</c>). Progress and
/// the summary count these runs once each, by their current state, whoever started them (the backfill,
/// or their inputs being done). A run not created yet counts as waiting for its inputs.
/// </summary>
internal sealed class BackfillScope
{
    private readonly Dictionary<string, HashSet<Partition>> _partitions;

    private BackfillScope(IReadOnlyList<string> startJobs, Dictionary<string, HashSet<Partition>> partitions)
    {
        StartJobs = startJobs;
        _partitions = partitions;
        Total = partitions.Values.Sum(p => p.Count);
    }

    public IReadOnlyList<string> StartJobs { get; }

    public int Total { get; }

    /// <summary>The jobs counted: those started from and every command job after them.</summary>
    public int JobCount => _partitions.Count;

    public static BackfillScope Of(Pipeline pipeline, IReadOnlyList<string> startJobs, DateOnly from, DateOnly to)
    {
        var jobs = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var next = new Queue<string>(startJobs);
        while (next.TryDequeue(out var name))
        {
            if (seen.Add(name))
            {
                jobs.Add(name);
                foreach (var down in pipeline.DownstreamJobs(name))
                {
                    next.Enqueue(down.Name);
                }
            }
        }

        var partitions = new Dictionary<string, HashSet<Partition>>(StringComparer.Ordinal);
        foreach (var name in jobs.Where(j => pipeline[j].Run is not RunSpec.External))
        {
            var set = new HashSet<Partition>();
            for (var date = from; date <= to; date = date.AddDays(1))
            {
                var day = Partition.Day(date);
                foreach (var p in pipeline[name].Grain == Grain.Daily ? [day] : day.Hours())
                {
                    if (!pipeline.IsBeforeStart(new RunKey(name, p)))
                    {
                        set.Add(p);
                    }
                }
            }

            partitions[name] = set;
        }

        return new BackfillScope(startJobs, partitions);
    }

    public bool Contains(RunKey key) => _partitions.TryGetValue(key.Job, out var set) && set.Contains(key.Partition);

    /// <summary>The state of every run of the scope that exists (one query per job).</summary>
    public async Task<Dictionary<RunKey, Run>> ReadAsync(IRunStore store, CancellationToken ct)
    {
        var runs = new Dictionary<RunKey, Run>();
        foreach (var job in _partitions.Keys)
        {
            foreach (var run in await store.QueryRunsAsync(new RunQuery { Job = job, Limit = int.MaxValue }, ct))
            {
                if (Contains(run.Key))
                {
                    runs[run.Key] = run;
                }
            }
        }

        return runs;
    }

    public BackfillCounts Count(IEnumerable<Run> runs, int doneBefore)
    {
        var list = runs.ToList();
        int Of(RunState s) => list.Count(r => r.State == s);
        var counts = new BackfillCounts(Total, Of(RunState.Succeeded), Of(RunState.Running), Of(RunState.Queued), 0, Of(RunState.Failed), Of(RunState.TimedOut), Of(RunState.UpstreamFailed), doneBefore, list.Count(Output.States.IsCancelled));

        // The rest wait for inputs: created waiting, or not created yet (no input done).
        return counts with { Waiting = Total - counts.Succeeded - counts.Active - counts.Broken };
    }
}
