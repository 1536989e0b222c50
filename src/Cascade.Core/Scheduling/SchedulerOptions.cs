namespace Cascade.Core.Scheduling;

/// <summary>Run-time limits of one scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>At most this many attempts run at once, over all jobs.</summary>
    public int MaxParallel { get; init; } = int.MaxValue;
}
