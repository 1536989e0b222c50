using Cascade.Core.Markers;
using Cascade.Core.Model;

namespace Cascade.Core.Scheduling;

/// <summary>Facts in the past tense that the scheduler reacts to; each carries the time it happened.</summary>
public abstract record SchedulerInput(DateTimeOffset At)
{
    /// <summary>A done marker exists for <paramref name="Key"/> (first sight or a duplicate).</summary>
    /// <remarks><c>WrittenAt</c>: when the marker was written, if the store knows; a marker written before its run was replayed is stale.</remarks>
    public sealed record MarkerObserved(RunKey Key, MarkerBody Body, DateTimeOffset At, DateTimeOffset? WrittenAt = null) : SchedulerInput(At);

    /// <summary>
    /// Several markers seen together (a rescan, a burst): all are marked done before any downstream
    /// run is judged, so a run whose own marker is in the batch is never started.
    /// </summary>
    public sealed record MarkersObserved(IReadOnlyList<ObservedMarker> Markers, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>
    /// Re-run <paramref name="Job"/> for the partitions from..to (and, with
    /// <paramref name="Downstream"/>, everything reachable below it): each planned run gets a new
    /// generation, its old marker is superseded, and it runs again.
    /// </summary>
    public sealed record ReplayRequested(string Job, Partition From, Partition To, bool Downstream, bool Force, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>Run the chain from <paramref name="Jobs"/> (all roots when empty) over a date range, oldest first, at most <paramref name="MaxParallel"/> at once.</summary>
    public sealed record BackfillRequested(string Id, IReadOnlyList<string> Jobs, DateOnly From, DateOnly To, int? MaxParallel, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>
    /// Stop a backfill (<paramref name="Backfill"/>), one run (<paramref name="Key"/>) or, with
    /// <paramref name="To"/>, every run of the key's job from its partition to <paramref name="To"/>:
    /// waiting and queued work is dropped, running commands are killed (stale waiting runs are
    /// cleared this way).
    /// </summary>
    public sealed record CancelRequested(string? Backfill, RunKey? Key, DateTimeOffset At, Partition? To = null) : SchedulerInput(At);

    /// <summary>A started attempt's process ended. <paramref name="Marker"/> is its marker's body on exit 0.</summary>
    public sealed record RunExited(RunKey Key, int Generation, int Attempt, int ExitCode, MarkerBody? Marker, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>An attempt could not be started at all (program not found, not executable…).</summary>
    public sealed record RunNotStarted(RunKey Key, int Generation, int Attempt, string Reason, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>
    /// A started attempt failed for a reason an exit code cannot say (a remote activation answered
    /// 4xx, kept failing, or its marker never came within <c>run_timeout</c>); retried when <paramref name="Retry"/>.
    /// </summary>
    public sealed record RunFailed(RunKey Key, int Generation, int Attempt, string Reason, bool Retry, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>Someone asked to activate a run now, without checking its inputs.</summary>
    public sealed record TriggerRequested(RunKey Key, IReadOnlyDictionary<string, string> Params, DateTimeOffset At) : SchedulerInput(At);

    /// <summary>The clock reached <see cref="SchedulerInput.At"/>: due retries become runnable.</summary>
    public sealed record TimePassed(DateTimeOffset At) : SchedulerInput(At);

    /// <summary>
    /// A scheduler process took over the state after the store was rescanned: command attempts that
    /// were in flight when the previous process stopped are queued again (at-least-once); a remote
    /// (run.http) attempt is taken over as the same attempt, waiting or re-sent as its <c>on_restart</c> says.
    /// </summary>
    public sealed record SchedulerStarted(DateTimeOffset At) : SchedulerInput(At);

    /// <summary>The scheduler is stopping: start nothing more; attempts in flight may still report.</summary>
    public sealed record StopRequested(DateTimeOffset At) : SchedulerInput(At);
}
