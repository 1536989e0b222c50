using Cascade.Core.Scheduling;

namespace Cascade.Engine.State;

/// <summary>Filters for listing runs; empty means all.</summary>
public sealed record RunQuery
{
    public string? Job { get; init; }
    public string? Partition { get; init; }
    public RunState? State { get; init; }
    public string? Backfill { get; init; }

    /// <summary>Every generation, not only the latest (for history).</summary>
    public bool AllGenerations { get; init; }
    public int Limit { get; init; } = 10_000;
}
