namespace Cascade.Core.Scheduling;

public enum AlertKind
{
    TimedOut,
    Failed,
    DeadlineMissed,
    DeadlineRecovered,
}
