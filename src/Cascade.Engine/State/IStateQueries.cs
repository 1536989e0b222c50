namespace Cascade.Engine.State;

/// <summary>
/// What readers of the state need beyond <see cref="IRunStore"/>: counts by job and state, the
/// change feed (every committed change of a run in change-number order, for live streams that resume by id),
/// and how a request fares. Read-only; safe beside a running scheduler.
/// </summary>
public interface IStateQueries
{
    /// <summary>The latest generation of every run, counted by job and state.</summary>
    ValueTask<IReadOnlyList<RunCount>> CountRunsAsync(CancellationToken cancellationToken);

    /// <summary>Changes with an id above <paramref name="afterId"/>, oldest first, at most <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<RunChange>> ChangesAfterAsync(long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>The id of the latest change (0 when there is none).</summary>
    ValueTask<long> LastChangeIdAsync(CancellationToken cancellationToken);

    /// <summary>A request left in the inbox, or null when there is none with that id.</summary>
    ValueTask<RequestStatus?> GetRequestAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// The state of the latest generation of every run whose partition is from <paramref name="fromKey"/>
    /// to <paramref name="toKey"/> (inclusive; a daily <paramref name="toKey"/> includes its hours),
    /// ordered by partition then job: only the three columns a grid of jobs × days needs.
    /// </summary>
    ValueTask<IReadOnlyList<RunCell>> RunCellsAsync(string fromKey, string toKey, CancellationToken cancellationToken);

    /// <summary>The latest partition key that has a run, or null when there is none.</summary>
    ValueTask<string?> LatestPartitionAsync(CancellationToken cancellationToken);
}

/// <summary>A run's state for a grid cell: job, partition key and the state's name.</summary>
public sealed record RunCell(string Job, string Partition, string State);

public sealed record RunCount(string Job, string State, long Count);

/// <summary>
/// One committed change of a run: a line of its history, or its first sighting already done by its
/// marker (which has no history line, ADR 14). <see cref="Id"/> is its change number, which grows
/// with every commit; <see cref="ActivatedAt"/> and <see cref="FinishedAt"/> are the run's as of
/// this change (null in lines written before schema version 2).
/// </summary>
public sealed record RunChange(long Id, DateTimeOffset At, string Job, string Partition, int Generation, int Attempt, string State, string Event, string? Detail, DateTimeOffset? ActivatedAt, DateTimeOffset? FinishedAt);

/// <summary>A request and whether a scheduler has taken it (its effects are then committed).</summary>
public sealed record RequestStatus(long Id, string Kind, string? Job, string? Partition, DateTimeOffset At, DateTimeOffset? TakenAt);
