using Cascade.Core.Scheduling;

namespace Cascade.Engine.State;

/// <summary>Filters for listing runs; empty means all.</summary>
public sealed record RunQuery
{
    public string? Job { get; init; }
    public string? Partition { get; init; }
    public RunState? State { get; init; }
    public string? Backfill { get; init; }

    /// <summary>Only partitions from this key on (inclusive; daily and hourly keys order as their times do).</summary>
    public string? From { get; init; }

    /// <summary>Only partitions up to this key (inclusive; a daily key includes its hours).</summary>
    public string? To { get; init; }

    /// <summary>Newest partition first, then by job (for paging); otherwise oldest first.</summary>
    public bool NewestFirst { get; init; }

    /// <summary>With <see cref="NewestFirst"/>: only runs after this one in that order (a page's cursor).</summary>
    public (string Partition, string Job)? After { get; init; }

    /// <summary>Every generation, not only the latest (for history).</summary>
    public bool AllGenerations { get; init; }
    public int Limit { get; init; } = 10_000;
}
