using Cascade.Core.Pipelines;
using Cascade.Engine.Markers;
using Cascade.Engine.Runtime;
using Cascade.Web.Security;

namespace Cascade.Web;

/// <summary>What the HTTP API serves and where: one pipeline and its state, with or without a scheduler in the same process.</summary>
public sealed record WebOptions
{
    /// <summary>Where to listen, <c>;</c>-separated (<c>--urls</c>); port 0 picks a free port (see <see cref="WebServer.Addresses"/>).</summary>
    public required string Urls { get; init; }

    /// <summary>When set, every POST needs <c>Authorization: Bearer &lt;token&gt;</c>; required for a non-loopback address.</summary>
    public BearerToken? Token { get; init; }

    public required Pipeline Pipeline { get; init; }

    /// <summary>The SQLite state file, or the local stand-in of a PostgreSQL state (the scheduler lock's key).</summary>
    public required string StatePath { get; init; }

    /// <summary>The state the scheduler, the CLI and this API share; without it, the SQLite file at <see cref="StatePath"/>.</summary>
    public StateSettings State { get => field ?? new StateSettings.Sqlite(StatePath); init; }

    public required string LogDirectory { get; init; }

    /// <summary>The marker store, for <c>POST /api/markers</c> and for why an input is met.</summary>
    public required IMarkerStore Markers { get; init; }

    /// <summary>The scheduler of this process (<c>cascade run</c>), or null (<c>cascade serve</c>: the state database only).</summary>
    public SchedulerService? Scheduler { get; init; }

    /// <summary>The scheduler's instruments, exported at <c>/metrics</c>; null serves only the run counts.</summary>
    public SchedulerMetrics? Metrics { get; init; }

    /// <summary>The meter provider, made before the scheduler started (<see cref="Metrics.MetricsExport"/>); null: the server makes its own.</summary>
    public Metrics.MetricsExport? Export { get; init; }

    /// <summary>Origins allowed to call the API from a browser (<c>CASCADE_API_CORS_ORIGINS</c>); empty sends no CORS headers.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>How often a live stream looks for changes committed by another process (always, as a safety net).</summary>
    public TimeSpan ChangePoll { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where refused notifications and confirmed SNS subscriptions are told (one line each).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>
    /// The handler that fetches SNS signing certificates and confirms subscriptions; null: the
    /// system's, with its trust store (tests give one that trusts their own certificate authority).
    /// </summary>
    public HttpMessageHandler? SnsHandler { get; init; }

    /// <summary>Told of a request that failed inside the server (a bug), for the operator; the client gets a 500 without details.</summary>
    public Action<string>? OnError { get; init; }
}
