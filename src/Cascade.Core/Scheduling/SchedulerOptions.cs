namespace Cascade.Core.Scheduling;

/// <summary>Run-time limits of one scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>At most this many attempts run at once, over all jobs.</summary>
    public int MaxParallel { get; init; } = int.MaxValue;

    /// <summary>
    /// Start nothing until <see cref="SchedulerInput.SchedulerStarted"/>: while a scheduler reads
    /// the marker store on start, a run whose inputs are done may also have its own marker further
    /// down the listing, and must not be started before that is known.
    /// </summary>
    public bool HoldUntilStarted { get; init; }
}
