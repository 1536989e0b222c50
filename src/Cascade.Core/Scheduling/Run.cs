using Cascade.Core.Markers;
using Cascade.Core.Model;

namespace Cascade.Core.Scheduling;

/// <summary>
/// One job for one partition and generation, as the scheduler knows it. Immutable: every change
/// is a new value, handed to the state store before any command starts.
/// </summary>
public sealed record Run
{
    public required RunKey Key { get; init; }
    public int Generation { get; init; } = 1;
    public RunState State { get; init; }

    /// <summary>Attempts started so far (an attempt interrupted by a scheduler crash counts too).</summary>
    public int Attempt { get; init; }

    /// <summary>Failed attempts so far: retries are granted while this is at most the job's <c>retries</c>.</summary>
    public int Failures { get; init; }

    // Instants are kept as UTC ticks (0 = none): 8 bytes instead of the 24 of a DateTimeOffset?,
    // which is most of a run's size when a scheduler holds a year of a big pipeline (~10^6 runs).
    private readonly long _createdAt;
    private readonly long _queuedAt;
    private readonly long _activatedAt;
    private readonly long _startedAt;
    private readonly long _finishedAt;
    private readonly long _nextRetryAt;
    private readonly long _waitDeadline;

    public required DateTimeOffset CreatedAt { get => Instant.From(_createdAt) ?? DateTimeOffset.MinValue; init => _createdAt = Instant.To(value); }

    public DateTimeOffset? QueuedAt { get => Instant.From(_queuedAt); init => _queuedAt = Instant.To(value); }

    /// <summary>When the first attempt started.</summary>
    public DateTimeOffset? ActivatedAt { get => Instant.From(_activatedAt); init => _activatedAt = Instant.To(value); }

    /// <summary>When the current (last) attempt started.</summary>
    public DateTimeOffset? StartedAt { get => Instant.From(_startedAt); init => _startedAt = Instant.To(value); }

    public DateTimeOffset? FinishedAt { get => Instant.From(_finishedAt); init => _finishedAt = Instant.To(value); }

    /// <summary>When a queued run may start again after a failed attempt.</summary>
    public DateTimeOffset? NextRetryAt { get => Instant.From(_nextRetryAt); init => _nextRetryAt = Instant.To(value); }

    /// <summary>When a waiting run times out (set once a same-partition input is done and the job has a wait_timeout).</summary>
    public DateTimeOffset? WaitDeadline { get => Instant.From(_waitDeadline); init => _waitDeadline = Instant.To(value); }

    /// <summary>Who asked: <c>inputs</c> (all inputs done), <c>trigger</c>, <c>schedule</c>, <c>replay</c>, <c>backfill</c>, or <c>marker</c> (done outside Cascade).</summary>
    public string? Cause { get; init; }

    /// <summary>Params the run was activated with (job defaults, then inputs' markers, then trigger).</summary>
    public IReadOnlyDictionary<string, string> Params { get; init; } = EmptyParams.Instance;

    /// <summary>Params given by <c>cascade trigger --param</c>; they win over every other source.</summary>
    public IReadOnlyDictionary<string, string> TriggerParams { get; init; } = EmptyParams.Instance;

    /// <summary>The body of this run's own done marker, once done.</summary>
    public MarkerBody? Marker { get; init; }

    /// <summary>The backfill this run belongs to, if any (it counts against that backfill's limit).</summary>
    public string? Backfill { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>Why the run failed, in words.</summary>
    public string? Reason { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsDone => State == RunState.Succeeded;

    public bool IsBroken => State.IsBroken();

    public string RunId => $"{Key.Job}__{Key.Partition.Key}__g{Generation}a{Attempt}";

    /// <summary>An instant as UTC ticks, 0 for none (<see cref="DateTimeOffset.MinValue"/> is never a run's time).</summary>
    private static class Instant
    {
        public static long To(DateTimeOffset? value) => value?.UtcTicks ?? 0;

        public static DateTimeOffset? From(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
