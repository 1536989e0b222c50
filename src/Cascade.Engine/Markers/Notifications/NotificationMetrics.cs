using System.Diagnostics.Metrics;

namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// <c>cascade_notifications_total{source, outcome}</c>: records of notifications by where they came in
/// (<c>http</c>, <c>sqs</c>) and what became of them (<c>queued</c>, <c>duplicate</c>, <c>stale</c>,
/// <c>ignored</c>), and whole notifications <c>refused</c>. Never labelled by key or partition.
/// Exported at <c>/metrics</c> with the scheduler's instruments (same meter name).
/// </summary>
public sealed class NotificationMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _notifications;

    public NotificationMetrics(string meterName)
    {
        _meter = new Meter(meterName);
        _notifications = _meter.CreateCounter<long>("cascade_notifications", description: "Notification records by source and outcome (queued, duplicate, stale, ignored), and whole notifications refused");
    }

    public void Count(NotificationChannel channel, string outcome, int n = 1)
    {
        if (n > 0)
        {
            _notifications.Add(n, new KeyValuePair<string, object?>("source", channel == NotificationChannel.Sqs ? "sqs" : "http"), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void Dispose() => _meter.Dispose();
}
