using Cascade.Core.Model;

namespace Cascade.Core.Scheduling;

/// <summary>What the scheduler asks the engine to do, in order.</summary>
public abstract record SchedulerEffect
{
    private SchedulerEffect()
    {
    }

    /// <summary>
    /// Store this run (and append <paramref name="Event"/> to its history) before any later
    /// <see cref="StartRun"/>. <paramref name="Quiet"/>: the run row says it all (a run first seen
    /// already done by its marker), so no history line is kept — a cold start on a year of markers
    /// writes one row per run, not two.
    /// </summary>
    public sealed record RunChanged(Run Run, string Event, string? Detail, bool Quiet = false) : SchedulerEffect
    {
        /// <summary>When the event happened, for an event none of the run's own times says (a restart); null = told by the run.</summary>
        public DateTimeOffset? At { get; init; }
    }

    /// <summary>Start an attempt. Its run's change was emitted before this effect.</summary>
    public sealed record StartRun(Activation Activation) : SchedulerEffect;

    /// <summary>Write an (empty) marker: an attempt exited 0 without writing its own.</summary>
    public sealed record WriteMarker(RunKey Key, Markers.MarkerBody Body) : SchedulerEffect;

    /// <summary>Move the marker of a replayed run aside (kept for the record) so nothing downstream starts on it.</summary>
    public sealed record SupersedeMarker(RunKey Key, int Generation) : SchedulerEffect;

    /// <summary>Kill a running attempt (cancel, or a forced replay). Its exit is then stale and ignored.</summary>
    public sealed record CancelAttempt(RunKey Key, int Generation, int Attempt) : SchedulerEffect;

    /// <summary>Store a named cursor with the batch (null deletes it); see <see cref="SchedulerSnapshot"/>.</summary>
    public sealed record CursorMoved(string Name, string? Value) : SchedulerEffect;

    /// <summary>Tell people (Slack, webhook). Sent in the background, after the batch is committed.</summary>
    public sealed record SendAlert(Alert Alert) : SchedulerEffect;

    /// <summary>Something was ignored; log it and count it.</summary>
    public sealed record Warning(string Message) : SchedulerEffect;
}
