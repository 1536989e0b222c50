using System.Net;
using Cascade.Engine.State;
using Cascade.Web.Api;
using Cascade.Web.Live;
using Cascade.Web.Metrics;
using Cascade.Web.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cascade.Web;

/// <summary>
/// The HTTP API (SPEC section 6), hosted in-process by <c>cascade run</c> and <c>cascade serve</c>:
/// ASP.NET Core's slim builder on Kestrel, one route group per resource, handlers that are plain
/// <see cref="RequestDelegate"/>s writing JSON with <c>Utf8JsonWriter</c> (Native AOT: nothing is
/// bound or serialized by reflection). Security rules live in one middleware: a POST needs the token
/// when one is set, bodies are at most 64 KiB, every error is <c>application/problem+json</c>.
/// </summary>
public sealed class WebServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiContext _context;

    private WebServer(WebApplication app, ApiContext context, IReadOnlyList<string> addresses)
    {
        _app = app;
        _context = context;
        Addresses = addresses;
    }

    /// <summary>Where the server listens, as bound (port 0 resolved).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>
    /// Checks the addresses (a non-loopback one needs a token: <see cref="WebConfigException"/>),
    /// opens the state for reading, binds and starts serving; returns once it listens.
    /// </summary>
    public static async Task<WebServer> StartAsync(WebOptions options, CancellationToken cancellationToken)
    {
        var urls = Binding.Check(options.Urls, options.Token);
        var reader = await StateStores.OpenForReadingAsync(options.State, options.Time, Environment.GetEnvironmentVariable, cancellationToken);
        var context = new ApiContext(options, reader, new ChangeSignal(options.Scheduler));
        WebApplication? app = null;
        try
        {
            app = Build(context, urls);
            await app.StartAsync(cancellationToken);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            return new WebServer(app, context, addresses);
        }
        catch (IOException e)
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await context.DisposeAsync();
            throw new WebConfigException($"cannot listen on {options.Urls}: {e.Message} (another program uses the port? give --urls with another port, or --no-web)", e);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await context.DisposeAsync();
            throw;
        }
    }

    private static WebApplication Build(ApiContext context, IReadOnlyList<Uri> urls)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "cascade" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = JsonBody.MaxBytes;
            foreach (var url in urls)
            {
                var port = url.IsDefaultPort && url.OriginalString.IndexOf(':', url.Scheme.Length + 3) < 0 ? (url.Scheme == "https" ? 443 : 80) : url.Port;
                if (url.Host is "localhost")
                {
                    k.ListenLocalhost(port);
                }
                else if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip))
                {
                    k.Listen(ip, port);
                }
                else
                {
                    k.ListenAnyIP(port); // a host name: Kestrel binds every address, as ASP.NET Core does for --urls
                }
            }
        });
        builder.Services.AddSingleton(context);
        builder.Services.AddRouting();

        var app = builder.Build();
        app.Use(Guard.InvokeAsync);
        HealthApi.Map(app);
        JobsApi.Map(app.MapGroup("/api/jobs"));
        RunsApi.Map(app.MapGroup("/api/runs"));
        MarkersApi.Map(app.MapGroup("/api/markers"));
        ReplayApi.Map(app.MapGroup("/api/replay"));
        BackfillsApi.Map(app.MapGroup("/api/backfills"));
        CancelApi.Map(app.MapGroup("/api/cancel"));
        RequestsApi.Map(app.MapGroup("/api/requests"));
        EventsApi.Map(app.MapGroup("/api/events"));
        S3EventsApi.Map(app);
        GridApi.Map(app.MapGroup("/api/grid"));
        DagApi.Map(app.MapGroup("/api/dag"));
        Dashboard.DashboardFiles.Map(app);
        OpenApiDocument.Map(app);
        PrometheusMetrics.Map(app, context);
        app.MapFallback(NotFoundAsync);
        return app;
    }

    private static Task NotFoundAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"no endpoint {context.Request.Method} {context.Request.Path} (GET /openapi.json lists them)");

    /// <summary>Every endpoint served, as <c>METHOD /path/{param}</c> (routes, and <c>GET /metrics</c>, which is a branch of the pipeline).</summary>
    internal IReadOnlyList<string> Endpoints() =>
        _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} /{e.RoutePattern.RawText!.Trim('/')}"))
            .Append($"GET {PrometheusMetrics.Path}")
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The ids of the changes after <paramref name="afterId"/> as the state holds them (for checks that a stream lost none).</summary>
    internal async Task<IReadOnlyList<long>> ChangeIdsAfterAsync(long afterId) =>
        (await _context.Reader.ChangesAfterAsync(afterId, int.MaxValue, CancellationToken.None)).Select(c => c.Id).ToList();

    /// <summary>Stops accepting, lets requests in flight end (live streams are closed), and releases the state.</summary>
    public async ValueTask DisposeAsync()
    {
        _context.Changes.Dispose();
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5), _context.Time))
        {
            try
            {
                await _app.StopAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                // streams that did not end in time are cut
            }
        }

        await _app.DisposeAsync();
        await _context.DisposeAsync();
    }
}
