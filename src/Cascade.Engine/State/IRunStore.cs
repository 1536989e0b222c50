using Cascade.Core.Model;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.State;

/// <summary>
/// The scheduler's durable state: the latest generation of every run, attempts, an append-only
/// history of changes, and an inbox of requests from other processes (the CLI).
/// The scheduler commits every batch of decisions here before it starts any command.
/// </summary>
public interface IRunStore : IAsyncDisposable
{
    /// <summary>The latest generation of every run and the core's cursors, for a scheduler taking over.</summary>
    ValueTask<SchedulerSnapshot> LoadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores runs, appends their events, moves cursors and marks the requests they answer as taken,
    /// in one transaction (group commit): a request is taken exactly when its effects are stored.
    /// </summary>
    ValueTask CommitAsync(IReadOnlyList<SchedulerEffect.RunChanged> changes, IReadOnlyList<SchedulerEffect.CursorMoved> cursors, IReadOnlyList<long> takenRequests, CancellationToken cancellationToken);

    /// <summary>The cursors (schedule ticks, SLA checks and misses), for display.</summary>
    ValueTask<IReadOnlyDictionary<string, string>> GetCursorsAsync(CancellationToken cancellationToken);

    /// <summary>Leaves a request for the scheduler (now, or the next one to start).</summary>
    ValueTask<long> EnqueueRequestAsync(Request request, CancellationToken cancellationToken);

    /// <summary>Whether a scheduler has taken the request: its effects, if any, are committed in the same transaction.</summary>
    ValueTask<bool> IsRequestTakenAsync(long id, CancellationToken cancellationToken);

    /// <summary>Requests not taken yet, in order; a request is taken by the commit that stores its effects.</summary>
    ValueTask<IReadOnlyList<Request>> PendingRequestsAsync(CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<Run>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken);

    ValueTask<Run?> GetRunAsync(RunKey key, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<RunEvent>> GetEventsAsync(RunKey key, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<AttemptRecord>> GetAttemptsAsync(RunKey key, CancellationToken cancellationToken);
}
