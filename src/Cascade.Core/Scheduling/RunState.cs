namespace Cascade.Core.Scheduling;

/// <summary>
/// The closed set of run states. <c>waiting → queued → running → succeeded | failed</c>;
/// a marker written by anyone makes a run <see cref="Succeeded"/> from any state.
/// A queued run with a retry time is waiting out its backoff.
/// </summary>
public enum RunState
{
    Waiting,
    Queued,
    Running,
    Succeeded,
    Failed,
}
