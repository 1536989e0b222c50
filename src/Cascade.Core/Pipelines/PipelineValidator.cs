using Cascade.Core.Markers;
using Cascade.Core.Model;

namespace Cascade.Core.Pipelines;

/// <summary>
/// The rules a pipeline must meet beyond its syntax: names, references, cycles, limits and
/// placeholders. Every error carries the file position of what is wrong.
/// </summary>
public static class PipelineValidator
{
    public static IReadOnlyList<ValidationError> Validate(PipelineDefinition pipeline)
    {
        var errors = new List<ValidationError>();
        void Error(SourceLocation at, string message) => errors.Add(new ValidationError(pipeline.SourcePath, at, message));

        if (pipeline.Jobs.Count == 0)
        {
            Error(SourceLocation.None, "the pipeline has no jobs");
        }

        var byName = new Dictionary<string, JobDefinition>(StringComparer.Ordinal);
        foreach (var job in pipeline.Jobs)
        {
            if (!JobName.IsValid(job.Name))
            {
                Error(job.Location, JobName.Problem(job.Name));
            }

            if (!byName.TryAdd(job.Name, job))
            {
                Error(job.Location, $"job '{job.Name}' is defined twice");
            }
        }

        foreach (var job in pipeline.Jobs)
        {
            CheckJob(job, byName, Error);
        }

        if (errors.Count == 0)
        {
            var cycles = FindCycles(pipeline.Jobs, byName);
            foreach (var cycle in cycles)
            {
                Error(byName[cycle[0]].Location, $"cycle: {string.Join(" -> ", cycle)} (a job may only depend on earlier partitions of itself or its downstream jobs, with a negative offset)");
            }

            if (cycles.Count == 0 && FindDeadlock(pipeline.Jobs) is { } deadlock)
            {
                Error(byName[deadlock[0]].Location, $"cycle through offsets that never goes back in time: {string.Join(" -> ", deadlock)} (the offsets around a cycle must add up to less than 0, or no partition can ever run)");
            }
        }

        return errors;
    }

    private static void CheckJob(JobDefinition job, Dictionary<string, JobDefinition> byName, Action<SourceLocation, string> error)
    {
        var seen = new HashSet<(string, int)>();
        foreach (var dep in job.After)
        {
            if (!byName.ContainsKey(dep.Job))
            {
                var hint = DidYouMean.Closest(dep.Job, byName.Keys);
                error(dep.Location, $"job '{job.Name}' is after unknown job '{dep.Job}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}");
            }

            if (dep.Job == job.Name && dep.Offset >= 0)
            {
                error(dep.Location, $"job '{job.Name}' depends on itself with offset {dep.Offset}; use a negative offset (e.g. -1 for the previous partition)");
            }

            if (Math.Abs((long)dep.Offset) > Partition.MaxOffset)
            {
                error(dep.Location, $"job '{job.Name}': offset {dep.Offset} of '{dep.Job}' is too large (at most {Partition.MaxOffset:N0} partitions either way)");
            }

            if (!seen.Add((dep.Job, dep.Offset)))
            {
                error(dep.Location, $"job '{job.Name}' lists '{dep}' twice in after");
            }
        }

        if (job.Start is { } start && !Partition.IsSupportedDate(start))
        {
            error(job.Location, Partition.RangeError($"job '{job.Name}': start {start:yyyy-MM-dd}"));
        }

        if (job.Schedule is { } schedule && Math.Abs((long)schedule.PartitionOffset) > Partition.MaxOffset)
        {
            error(job.Location, $"job '{job.Name}': partition_offset {schedule.PartitionOffset} is too large (at most {Partition.MaxOffset:N0} partitions either way)");
        }

        if (job.Retries < 0)
        {
            error(job.Location, $"job '{job.Name}': retries must be 0 or more, not {job.Retries}");
        }

        if (job.RetryBackoff < TimeSpan.Zero)
        {
            error(job.Location, $"job '{job.Name}': retry_backoff must not be negative");
        }

        if (job.MaxParallel is < 1)
        {
            error(job.Location, $"job '{job.Name}': max_parallel must be 1 or more, not {job.MaxParallel}");
        }

        foreach (var name in job.Params.Keys.Where(k => !MarkerBody.IsParamName(k)))
        {
            error(job.Location, $"job '{job.Name}': param name '{name}' is not valid (letters, digits, '_' and '-', starting with a letter)");
        }

        foreach (var (name, value) in job.Params.Where(p => p.Value.Contains('\0', StringComparison.Ordinal)))
        {
            error(job.Location, $"job '{job.Name}': the value of param '{name}' contains a NUL character, which no argument can carry");
        }

        if (job.Run is RunSpec.Command cmd)
        {
            if (cmd.Argv.Any(a => a.Contains('\0', StringComparison.Ordinal)))
            {
                error(job.Location, $"job '{job.Name}': a run.command argument contains a NUL character, which no argument can carry");
            }

            if (cmd.Argv.Count == 0 || string.IsNullOrWhiteSpace(cmd.Argv[0]))
            {
                error(job.Location, $"job '{job.Name}': run.command must name a program");
            }

            foreach (var unknown in cmd.Argv.SelectMany(Placeholders.Unknown).Distinct())
            {
                error(job.Location, $"job '{job.Name}': unknown placeholder '{{{unknown}}}' in run.command (known: {string.Join(", ", Placeholders.Names.Select(n => "{" + n + "}"))}, {{params.NAME}})");
            }
        }

        if (job.Run is RunSpec.Http http)
        {
            var at = http.Location.Line > 0 ? http.Location : job.Location;
            foreach (var unknown in http.Request.PlaceholderTemplates().SelectMany(Placeholders.Unknown).Distinct())
            {
                error(at, $"job '{job.Name}': unknown placeholder '{{{unknown}}}' in run.http (known: {string.Join(", ", Placeholders.Names.Select(n => "{" + n + "}"))}, {{params.NAME}})");
            }
        }

        if (job.RunTimeout is { } runTimeout && (runTimeout <= TimeSpan.Zero || job.Run is not RunSpec.Http))
        {
            error(job.Location, runTimeout <= TimeSpan.Zero
                ? $"job '{job.Name}': run_timeout must be positive"
                : $"job '{job.Name}': run_timeout is for remote (run.http) jobs, whose marker comes later; a command's run ends when its process exits");
        }
    }

    /// <summary>Cycles through non-negative-offset edges, each printed once as a path.</summary>
    private static List<List<string>> FindCycles(IReadOnlyList<JobDefinition> jobs, Dictionary<string, JobDefinition> byName)
    {
        var cycles = new List<List<string>>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on stack, 2 = done
        var stack = new List<string>();

        void Visit(string name)
        {
            state[name] = 1;
            stack.Add(name);
            foreach (var dep in byName[name].After.Where(d => d.Offset >= 0 && d.Job != name))
            {
                var s = state.GetValueOrDefault(dep.Job);
                if (s == 1)
                {
                    var from = stack.IndexOf(dep.Job);
                    var path = stack.Skip(from).Reverse().ToList();
                    path.Insert(0, dep.Job);
                    cycles.Add(path);
                }
                else if (s == 0)
                {
                    Visit(dep.Job);
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[name] = 2;
        }

        foreach (var job in jobs)
        {
            if (state.GetValueOrDefault(job.Name) == 0)
            {
                Visit(job.Name);
            }
        }

        return cycles;
    }

    /// <summary>
    /// A cycle whose offsets add up to 0 or more (each run would wait for itself or a later
    /// partition). Bellman-Ford on weights -(n+1)·offset - 1: such a cycle, and only such a cycle,
    /// has a negative total. Returns the cycle in the direction data flows, or null.
    /// </summary>
    private static List<string>? FindDeadlock(IReadOnlyList<JobDefinition> jobs)
    {
        var n = jobs.Count;
        var index = jobs.Select((j, i) => (j.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var edges = new List<(int From, int To, long Weight)>();
        foreach (var job in jobs)
        {
            foreach (var dep in job.After)
            {
                // Data flows from the upstream job to this one.
                edges.Add((index[dep.Job], index[job.Name], (-(long)dep.Offset * (n + 1)) - 1));
            }
        }

        var dist = new long[n];
        var pred = Enumerable.Repeat(-1, n).ToArray();
        var last = -1;
        for (var round = 0; round < n; round++)
        {
            last = -1;
            foreach (var (from, to, w) in edges)
            {
                if (dist[from] + w < dist[to])
                {
                    dist[to] = dist[from] + w;
                    pred[to] = from;
                    last = to;
                }
            }

            if (last < 0)
            {
                break; // settled: no cycle can be negative
            }
        }

        if (last < 0)
        {
            return null;
        }

        for (var i = 0; i < n; i++)
        {
            last = pred[last];
        }

        var cycle = new List<string>();
        for (var v = last; ; v = pred[v])
        {
            cycle.Add(jobs[v].Name);
            if (v == last && cycle.Count > 1)
            {
                break;
            }
        }

        cycle.Reverse();
        return cycle;
    }
}
