using Cascade.Core.Markers;

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
            foreach (var cycle in FindCycles(pipeline.Jobs, byName))
            {
                Error(byName[cycle[0]].Location, $"cycle: {string.Join(" -> ", cycle)} (a job may only depend on earlier partitions of itself or its downstream jobs, with a negative offset)");
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
                var hint = Suggest(dep.Job, byName.Keys);
                error(dep.Location, $"job '{job.Name}' is after unknown job '{dep.Job}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}");
            }

            if (dep.Job == job.Name && dep.Offset >= 0)
            {
                error(dep.Location, $"job '{job.Name}' depends on itself with offset {dep.Offset}; use a negative offset (e.g. -1 for the previous partition)");
            }

            if (!seen.Add((dep.Job, dep.Offset)))
            {
                error(dep.Location, $"job '{job.Name}' lists '{dep}' twice in after");
            }
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

        if (job.Run is RunSpec.Command cmd)
        {
            if (cmd.Argv.Count == 0 || string.IsNullOrWhiteSpace(cmd.Argv[0]))
            {
                error(job.Location, $"job '{job.Name}': run.command must name a program");
            }

            foreach (var unknown in cmd.Argv.SelectMany(Placeholders.Unknown).Distinct())
            {
                error(job.Location, $"job '{job.Name}': unknown placeholder '{{{unknown}}}' in run.command (known: {string.Join(", ", Placeholders.Names.Select(n => "{" + n + "}"))}, {{params.NAME}})");
            }
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

    private static string? Suggest(string name, IEnumerable<string> candidates) =>
        candidates.Select(c => (c, d: Distance(name, c))).Where(x => x.d <= 2).OrderBy(x => x.d).Select(x => x.c).FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
