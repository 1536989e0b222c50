using Cascade.Engine.Runtime;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Cascade.Web.Metrics;

/// <summary>
/// The OpenTelemetry meter provider behind <c>/metrics</c>, listening to the scheduler's meter. It
/// must exist before the scheduler starts, or what the scheduler measures before it exists (the
/// start-up rescan, the first activations) is never counted: <c>cascade run</c> makes it first,
/// then starts the scheduler, then Kestrel beside it.
/// </summary>
public sealed class MetricsExport : IDisposable
{
    private MetricsExport(string meterName, MeterProvider provider)
    {
        MeterName = meterName;
        Provider = provider;
    }

    public string MeterName { get; }

    internal MeterProvider Provider { get; }

    internal string StateMeterName => MeterName + ".State";

    public static MetricsExport Start(string meterName = SchedulerMetrics.DefaultMeterName)
    {
        var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meterName, meterName + ".State")
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)
            .Build();
        return new MetricsExport(meterName, provider);
    }

    public void Dispose() => Provider.Dispose();
}
