namespace Cascade.Core.Scheduling;

/// <summary>
/// The closed set of run states: <c>waiting → queued → running → succeeded</c>, or one of the
/// broken ends <see cref="Failed"/>, <see cref="TimedOut"/>, <see cref="UpstreamFailed"/>.
/// A queued run with a retry time is waiting out its backoff.
/// </summary>
public enum RunState
{
    /// <summary>At least one input is done; waiting for the rest (until its wait deadline).</summary>
    Waiting,

    /// <summary>All inputs done (or triggered, or scheduled): waiting for a free slot or its retry time.</summary>
    Queued,

    Running,
    Succeeded,

    /// <summary>Its last attempt failed (retries exhausted) or it could not be activated.</summary>
    Failed,

    /// <summary>Its inputs were not all done by its wait deadline.</summary>
    TimedOut,

    /// <summary>An input failed or timed out: it will not run until replayed.</summary>
    UpstreamFailed,

    /// <summary>An older generation, replaced by a replay (kept for the record).</summary>
    Superseded,
}
