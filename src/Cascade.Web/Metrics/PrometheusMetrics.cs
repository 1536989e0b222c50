using System.Diagnostics.Metrics;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cascade.Web.Metrics;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format through OpenTelemetry's exporter: the
/// scheduler's instruments (<see cref="SchedulerMetrics"/>, when a scheduler runs in this process)
/// and <c>cascade_runs</c>, the runs by job and state, counted from the state database at each scrape
/// (so <c>cascade serve</c> exports it too).
/// </summary>
internal static class PrometheusMetrics
{
    public const string Path = "/metrics";

    public static void Map(WebApplication app, ApiContext api)
    {
        var export = api.Options.Export ?? MetricsExport.Start(api.Options.Metrics?.MeterName ?? SchedulerMetrics.DefaultMeterName);
        var counts = new RunCounts(api, export.StateMeterName);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            counts.Dispose();
            if (api.Options.Export is null)
            {
                export.Dispose(); // made here, for `cascade serve`
            }
        });
        app.MapWhen(c => c.Request.Path == Path, branch => branch
            .Use(async (context, next) =>
            {
                if (!HttpMethods.IsGet(context.Request.Method))
                {
                    await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"{Path} takes GET only");
                    return;
                }

                await counts.RefreshAsync(context.RequestAborted);
                await next(context);
            })
            .UseOpenTelemetryPrometheusScrapingEndpoint(export.Provider, predicate: null, path: null, configureBranchedPipeline: null, optionsName: null));
    }

    /// <summary>The gauge of runs by job and state; the callback reads what the last refresh counted.</summary>
    private sealed class RunCounts : IDisposable
    {
        private readonly ApiContext _api;
        private readonly Meter _meter;
        private IReadOnlyList<RunCount> _latest = [];

        public RunCounts(ApiContext api, string meterName)
        {
            _api = api;
            _meter = new Meter(meterName);
            _meter.CreateObservableGauge("cascade_runs", Observe, description: "Runs by job and state (the latest generation of each)");
        }

        public async Task RefreshAsync(CancellationToken ct) => Volatile.Write(ref _latest, await _api.Reader.CountRunsAsync(ct));

        private IEnumerable<Measurement<long>> Observe() =>
            Volatile.Read(ref _latest).Select(c => new Measurement<long>(c.Count, new KeyValuePair<string, object?>("job", c.Job), new KeyValuePair<string, object?>("state", c.State)));

        public void Dispose() => _meter.Dispose();
    }
}
