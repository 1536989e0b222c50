using Cascade.Engine.Runtime;
using Cascade.Web;
using Cascade.Web.Security;

namespace Cascade.Cli;

/// <summary>How <c>run</c> and <c>serve</c> host the HTTP API: the options from the workspace and the environment, and the start-up checks.</summary>
internal static class WebHosting
{
    public const string DefaultUrls = "http://127.0.0.1:5170";

    /// <summary>The options, with the security checks done now (a non-loopback address without a token is refused before anything starts).</summary>
    public static WebOptions Options(Workspace ws, string urls, SchedulerService? scheduler, SchedulerMetrics? metrics)
    {
        var token = BearerToken.FromEnvironment(Environment.GetEnvironmentVariable);
        try
        {
            Binding.Check(urls, token);
        }
        catch (WebConfigException e)
        {
            throw new CliException(e.Message);
        }

        return new WebOptions
        {
            Urls = urls,
            Token = token,
            Pipeline = ws.Pipeline,
            StatePath = ws.StatePath,
            State = ws.State,
            LogDirectory = ws.LogDirectory,
            Markers = ws.Markers(TimeProvider.System),
            Scheduler = scheduler,
            Metrics = metrics,
            CorsOrigins = (Environment.GetEnvironmentVariable("CASCADE_API_CORS_ORIGINS") ?? string.Empty)
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Logger = new Output.ConsoleLog(Microsoft.Extensions.Logging.LogLevel.Warning),
            OnError = message => Console.Error.WriteLine($"{TimeProvider.System.GetUtcNow():HH:mm:ss} {message}"),
        };
    }

    /// <summary>Starts the server and prints where it listens; a port that cannot be bound is a <see cref="CliException"/>.</summary>
    public static async Task<WebServer> StartAsync(WebOptions options, CancellationToken ct)
    {
        try
        {
            var server = await WebServer.StartAsync(options, ct);
            Console.WriteLine($"HTTP API on {string.Join(", ", server.Addresses)}{(options.Token is null ? string.Empty : " (POST needs CASCADE_API_TOKEN)")}");
            return server;
        }
        catch (WebConfigException e)
        {
            throw new CliException(e.Message);
        }
    }
}
