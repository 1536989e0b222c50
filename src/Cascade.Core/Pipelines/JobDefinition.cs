using Cascade.Core.Model;

namespace Cascade.Core.Pipelines;

/// <summary>A job of the pipeline with its settings resolved against <c>defaults</c>.</summary>
public sealed record JobDefinition
{
    public required string Name { get; init; }
    public Grain Grain { get; init; } = Grain.Daily;
    public IReadOnlyList<Dependency> After { get; init; } = [];

    /// <summary>The first partition's date; offset inputs before it count as satisfied.</summary>
    public DateOnly? Start { get; init; }

    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();
    public required RunSpec Run { get; init; }

    /// <summary>Extra attempts after a failed run.</summary>
    public int Retries { get; init; }

    /// <summary>Delay before the first retry; it doubles each attempt.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many runs of this job may run at once; null = no per-job limit.</summary>
    public int? MaxParallel { get; init; }

    /// <summary>Roots only: the cron schedule that starts the chain.</summary>
    public ScheduleSpec? Schedule { get; init; }

    /// <summary>How long a run may wait for its remaining inputs once a same-partition input is done; null = forever.</summary>
    public TimeSpan? WaitTimeout { get; init; }

    /// <summary>A remote (HTTP) run whose marker has not come this long after it was activated fails (and is retried); null = no limit.</summary>
    public TimeSpan? RunTimeout { get; init; }

    /// <summary>SLA: the run should have succeeded this long after its partition ends (wall clock); null = none.</summary>
    public TimeSpan? Deadline { get; init; }

    public SourceLocation Location { get; init; } = SourceLocation.None;

    public bool IsRoot => After.Count == 0;
}
