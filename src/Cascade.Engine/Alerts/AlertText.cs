using Cascade.Core.Scheduling;

namespace Cascade.Engine.Alerts;

/// <summary>Words for alerts, shared by every sink.</summary>
public static class AlertText
{
    public static string EventName(AlertKind kind) => kind switch
    {
        AlertKind.TimedOut => "timed_out",
        AlertKind.Failed => "failed",
        AlertKind.DeadlineMissed => "deadline_missed",
        AlertKind.DeadlineRecovered => "deadline_recovered",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string Headline(Alert alert) => alert.Kind switch
    {
        AlertKind.TimedOut => $"{alert.Key.Job} {alert.Key.Partition.Key} timed out",
        AlertKind.Failed => $"{alert.Key.Job} {alert.Key.Partition.Key} failed",
        AlertKind.DeadlineMissed => $"{alert.Key.Job} {alert.Key.Partition.Key} missed its deadline",
        AlertKind.DeadlineRecovered => $"{alert.Key.Job} {alert.Key.Partition.Key} recovered",
        _ => alert.Kind.ToString(),
    };

    public static string List(IReadOnlyList<string> items, int max = 10) =>
        items.Count <= max ? string.Join(", ", items) : $"{string.Join(", ", items.Take(max))} and {items.Count - max} more";
}
