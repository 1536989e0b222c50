using System.Diagnostics.Metrics;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Runtime;

/// <summary>
/// The scheduler's instruments (System.Diagnostics.Metrics; the web project exports them in the
/// Prometheus format). Counters are named without <c>_total</c> and durations in seconds, so the
/// exporter names them as Prometheus does (<c>cascade_activations_total</c>,
/// <c>cascade_activation_latency_seconds</c>). Tags are the job, and the outcome or state where
/// they count by one: never the partition (one series per partition would grow without bound).
/// </summary>
public sealed class SchedulerMetrics : IDisposable
{
    public const string DefaultMeterName = "Cascade";

    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
    private readonly Meter _meter;
    private readonly Counter<long> _activations;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _markersObserved;
    private readonly Counter<long> _markersIgnored;
    private readonly Counter<long> _alertsDelivered;
    private readonly Counter<long> _alertsFailed;
    private readonly Histogram<double> _rescan;
    private readonly Histogram<double> _activationLatency;
    private readonly Histogram<double> _downstreamLatency;

    /// <param name="meterName">The meter's name (tests give each scheduler its own, so that two never share series).</param>
    /// <param name="runsByState">Read at every collection: the latest generation of every run, counted by job and state.</param>
    public SchedulerMetrics(string meterName = DefaultMeterName, Func<IEnumerable<Measurement<long>>>? runsByState = null)
    {
        MeterName = meterName;
        _meter = new Meter(meterName);
        _activations = _meter.CreateCounter<long>("cascade_activations", description: "Runs started (the first attempt of a generation)");
        _attempts = _meter.CreateCounter<long>("cascade_attempts", description: "Attempts that ended, by outcome (succeeded, failed, timed_out, cancelled, interrupted, not_started)");
        _markersObserved = _meter.CreateCounter<long>("cascade_markers_observed", description: "Done markers read and applied");
        _markersIgnored = _meter.CreateCounter<long>("cascade_markers_ignored", description: "Files that look like markers but name no known job or partition");
        _alertsDelivered = _meter.CreateCounter<long>("cascade_alerts_delivered", description: "Alerts delivered to a destination");
        _alertsFailed = _meter.CreateCounter<long>("cascade_alerts_failed", description: "Alerts given up after their retries");
        _rescan = _meter.CreateHistogram<double>("cascade_rescan_duration", unit: "s", description: "How long a full rescan of the marker store took", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _activationLatency = _meter.CreateHistogram<double>("cascade_activation_latency", unit: "s", description: "From the decision to run (the marker observed, the request taken) to the run's process started", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _downstreamLatency = _meter.CreateHistogram<double>("cascade_downstream_start_latency", unit: "s", description: "From the upstream run's end (its exit recorded) to the downstream run's process started", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        if (runsByState is not null)
        {
            _meter.CreateObservableGauge("cascade_runs", runsByState, description: "Runs by job and state (the latest generation of each)");
        }
    }

    public string MeterName { get; }

    internal void MarkerObserved() => _markersObserved.Add(1);

    internal void MarkerIgnored() => _markersIgnored.Add(1);

    internal void RescanTook(TimeSpan elapsed) => _rescan.Record(elapsed.TotalSeconds);

    public void AlertDelivered(string job) => _alertsDelivered.Add(1, new KeyValuePair<string, object?>("job", job));

    public void AlertFailed(string job) => _alertsFailed.Add(1, new KeyValuePair<string, object?>("job", job));

    /// <summary>An attempt's end, as the committed change names it.</summary>
    internal void AttemptEnded(SchedulerEffect.RunChanged change)
    {
        var outcome = change.Event switch
        {
            "succeeded" => "succeeded",
            "retry" or "failed" or "exited" => "failed",
            "timed_out" => "timed_out",
            "cancelled" or "superseded" => "cancelled",
            "interrupted" => "interrupted",
            "not_started" => "not_started",
            _ => null,
        };
        if (outcome is not null)
        {
            _attempts.Add(1, new KeyValuePair<string, object?>("job", change.Run.Key.Job), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>A run's first attempt has its process running, <paramref name="sinceQueued"/> after it was decided.</summary>
    internal void Activated(string job, TimeSpan sinceQueued, bool afterUpstream)
    {
        var tag = new KeyValuePair<string, object?>("job", job);
        var seconds = Math.Max(0, sinceQueued.TotalSeconds);
        _activations.Add(1, tag);
        _activationLatency.Record(seconds, tag);
        if (afterUpstream)
        {
            _downstreamLatency.Record(seconds, tag);
        }
    }

    public void Dispose() => _meter.Dispose();
}
