using Cascade.Core.Model;

namespace Cascade.Core.Pipelines;

/// <summary>
/// A validated pipeline and its dependency index, built once and kept in memory. All mapping
/// between a run and its inputs / downstream runs lives here so the scheduler and the CLI
/// (<c>why</c>) agree on it.
/// </summary>
public sealed class Pipeline
{
    private readonly Dictionary<string, JobDefinition> _jobs;
    private readonly Dictionary<string, List<(JobDefinition Downstream, Dependency Dependency)>> _downstream;
    private readonly Dictionary<string, DateOnly?> _effectiveStart;

    private Pipeline(PipelineDefinition definition)
    {
        Definition = definition;
        _jobs = definition.Jobs.ToDictionary(j => j.Name, StringComparer.Ordinal);
        _downstream = definition.Jobs.ToDictionary(j => j.Name, _ => new List<(JobDefinition, Dependency)>(), StringComparer.Ordinal);
        foreach (var job in definition.Jobs)
        {
            foreach (var dep in job.After)
            {
                _downstream[dep.Job].Add((job, dep));
            }
        }

        _effectiveStart = ComputeStarts(definition.Jobs);
    }

    public PipelineDefinition Definition { get; }

    /// <summary>Jobs in file order.</summary>
    public IReadOnlyList<JobDefinition> Jobs => Definition.Jobs;

    public JobDefinition this[string job] => _jobs[job];

    public bool TryGetJob(string job, out JobDefinition definition) => _jobs.TryGetValue(job, out definition!);

    public bool Contains(string job) => _jobs.ContainsKey(job);

    /// <summary>Validates a definition; on success returns the pipeline, else the errors (never both).</summary>
    public static PipelineResult Create(PipelineDefinition definition)
    {
        var errors = PipelineValidator.Validate(definition);
        return errors.Count > 0 ? new PipelineResult(null, errors) : new PipelineResult(new Pipeline(definition), errors);
    }

    /// <summary>
    /// The job's first partition date: its own <c>start</c>, else the latest start among its
    /// upstream jobs; null when nothing sets one.
    /// </summary>
    public DateOnly? EffectiveStart(string job) => _effectiveStart[job];

    /// <summary>True when the run's partition is before its job's effective start: no run is created for it.</summary>
    public bool IsBeforeStart(RunKey key) =>
        EffectiveStart(key.Job) is { } start && key.Partition.Date < start;

    /// <summary>Whether a run of <paramref name="key"/> may exist: its partition is supported and not before its job's start.</summary>
    public bool CanHaveRun(RunKey key) => key.Partition.IsSupported && !IsBeforeStart(key);

    /// <summary>Every upstream run that <paramref name="key"/> needs, in <c>after</c> order (hours in order).</summary>
    public IReadOnlyList<InputRequirement> InputsOf(RunKey key)
    {
        var job = _jobs[key.Job];
        var result = new List<InputRequirement>();
        for (var i = 0; i < job.After.Count; i++)
        {
            var dep = job.After[i];
            var upstream = _jobs[dep.Job];
            foreach (var p in MapUpstream(key.Partition, job.Grain, upstream.Grain, dep.Offset))
            {
                result.Add(new InputRequirement(new RunKey(dep.Job, p), dep, i));
            }
        }

        return result;
    }

    /// <summary>
    /// True when an input counts as done without a marker: an offset input whose partition is
    /// before the downstream job's start, before the upstream job's start, or before the first
    /// supported partition (no run can exist there).
    /// </summary>
    public bool IsSatisfiedByStart(RunKey downstream, InputRequirement input)
    {
        if (input.Dependency.Offset == 0)
        {
            return false;
        }

        var date = input.Key.Partition.Date;
        return date < Partition.MinDate
            || (EffectiveStart(downstream.Job) is { } ds && date < ds)
            || (EffectiveStart(input.Key.Job) is { } us && date < us);
    }

    /// <summary>Every run that lists <paramref name="upstream"/> among its inputs (same, later or earlier partitions).</summary>
    public IEnumerable<RunKey> DownstreamOf(RunKey upstream)
    {
        if (!_downstream.TryGetValue(upstream.Job, out var edges))
        {
            yield break;
        }

        var upGrain = _jobs[upstream.Job].Grain;
        foreach (var (downstream, dep) in edges)
        {
            foreach (var p in MapDownstream(upstream.Partition, upGrain, downstream.Grain, dep.Offset))
            {
                yield return new RunKey(downstream.Name, p);
            }
        }
    }

    public TimeZoneInfo Zone => Definition.Zone;

    /// <summary>The partition of the given grain that contains instant <paramref name="at"/> in the pipeline's zone.</summary>
    public Partition PartitionAt(DateTimeOffset at, Grain grain)
    {
        var local = TimeZoneInfo.ConvertTime(at, Zone).DateTime;
        var date = DateOnly.FromDateTime(local);
        return grain == Grain.Daily ? Partition.Day(date) : Partition.Hour(date, local.Hour);
    }

    /// <summary>The instant a partition's period ends (the next period's start, wall clock in the zone).</summary>
    public DateTimeOffset EndOf(Partition partition) => ToInstant(partition.Add(1).Start);

    /// <summary>The instant a partition's period starts.</summary>
    public DateTimeOffset StartOf(Partition partition) => ToInstant(partition.Start);

    /// <summary>Wall-clock time in the zone to an instant; a time skipped by a DST change moves forward.</summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (Zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }

    /// <summary>When a run of the job misses its SLA, if the job has a deadline.</summary>
    public DateTimeOffset? DeadlineOf(RunKey key) =>
        this[key.Job].Deadline is { } after ? ToInstant(key.Partition.Add(1).Start + after) : null;

    /// <summary>Jobs that list <paramref name="job"/> in their <c>after</c>.</summary>
    public IEnumerable<JobDefinition> DownstreamJobs(string job) =>
        _downstream.TryGetValue(job, out var edges) ? edges.Select(e => e.Downstream).Distinct() : [];

    // Offsets count in the coarser grain: days between daily and hourly jobs.
    private static IEnumerable<Partition> MapUpstream(Partition p, Grain down, Grain up, int offset) => (down, up) switch
    {
        (Grain.Daily, Grain.Daily) or (Grain.Hourly, Grain.Hourly) => [p.Add(offset)],
        (Grain.Daily, Grain.Hourly) => p.Add(offset).Hours(),
        (Grain.Hourly, Grain.Daily) => [p.ToDay().Add(offset)],
        _ => throw new ArgumentOutOfRangeException(nameof(down)),
    };

    private static IEnumerable<Partition> MapDownstream(Partition q, Grain up, Grain down, int offset) => (up, down) switch
    {
        (Grain.Daily, Grain.Daily) or (Grain.Hourly, Grain.Hourly) => [q.Add(-offset)],
        (Grain.Hourly, Grain.Daily) => [q.ToDay().Add(-offset)],
        (Grain.Daily, Grain.Hourly) => q.Add(-offset).Hours(),
        _ => throw new ArgumentOutOfRangeException(nameof(up)),
    };

    // A fixpoint, so the answer does not depend on the order of jobs (cycles through offsets included):
    // each pass can only move a start later, and there are finitely many starts.
    private static Dictionary<string, DateOnly?> ComputeStarts(IReadOnlyList<JobDefinition> jobs)
    {
        var starts = jobs.ToDictionary(j => j.Name, j => j.Start, StringComparer.Ordinal);
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var job in jobs.Where(j => j.Start is null))
            {
                DateOnly? latest = null;
                foreach (var dep in job.After.Where(d => d.Job != job.Name))
                {
                    if (starts.GetValueOrDefault(dep.Job) is { } s && (latest is null || s > latest))
                    {
                        latest = s;
                    }
                }

                if (latest != starts[job.Name] && (starts[job.Name] is null || latest > starts[job.Name]))
                {
                    starts[job.Name] = latest;
                    changed = true;
                }
            }
        }

        return starts;
    }
}
