using Cascade.Core.Pipelines;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Web.Live;

namespace Cascade.Web;

/// <summary>
/// What every handler shares: the options, one reading connection to the state (WAL: it never
/// blocks the scheduler's commits) and the change signal of the live stream. Writes open their own
/// connection per request, as the CLI's commands do.
/// </summary>
internal sealed class ApiContext(WebOptions options, IStateStore reader, ChangeSignal changes) : IAsyncDisposable
{
    public WebOptions Options { get; } = options;

    public Pipeline Pipeline => Options.Pipeline;

    public IStateStore Reader { get; } = reader;

    public ChangeSignal Changes { get; } = changes;

    public TimeProvider Time => Options.Time;

    /// <summary>The DAG's layered layout, computed once (the pipeline does not change while served).</summary>
    public Api.DagLayout Layout => field ??= Api.DagLayout.Of(Options.Pipeline);

    /// <summary>The request path the CLI's write commands use too.</summary>
    public Engine.Requests.RequestDesk Desk => new(Options.Pipeline, Options.StatePath, Options.Time, Engine.Requests.FrontDoor.Api);

    /// <summary>Whether a scheduler holds this state (this process's, or another <c>cascade run</c>).</summary>
    public bool SchedulerRuns => Options.Scheduler is not null || SchedulerLock.IsHeld(Options.StatePath);

    /// <summary>Whether this process's scheduler has finished its start-up (true without one).</summary>
    public bool SchedulerReady => Options.Scheduler?.IsReady ?? true;

    /// <summary>The notification intake of <c>POST /api/events/s3</c> (ADR 19), made at its first use.</summary>
    public NotificationIntake Intake
    {
        get
        {
            lock (_intakeGate)
            {
                return _intake ??= NewIntake();
            }
        }
    }

    private readonly Lock _intakeGate = new();
    private NotificationIntake? _intake;
    private HttpClient? _snsHttp;
    private NotificationMetrics? _notificationMetrics;

    private NotificationIntake NewIntake()
    {
        _snsHttp = Options.SnsHandler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        _snsHttp.Timeout = TimeSpan.FromSeconds(30); // each call has its own, shorter timeout
        _notificationMetrics = new NotificationMetrics(Options.Metrics?.MeterName ?? SchedulerMetrics.DefaultMeterName);
        return new NotificationIntake(Options.Pipeline, QueueNoticesAsync, _snsHttp, Time, Options.Logger, _notificationMetrics);
    }

    private async ValueTask<long> QueueNoticesAsync(Engine.State.Request notices, CancellationToken ct)
    {
        await using var writer = await OpenWriterAsync(ct);
        return await Desk.LeaveNoticesAsync(writer, notices, ct);
    }

    /// <summary>A read-write connection for one request (enqueueing); the caller disposes it.</summary>
    public Task<IStateStore> OpenWriterAsync(CancellationToken ct) => StateStores.OpenAsync(Options.State, Time, Environment.GetEnvironmentVariable, ct);

    public ValueTask DisposeAsync()
    {
        _intake?.Dispose();
        _snsHttp?.Dispose();
        _notificationMetrics?.Dispose();
        Changes.Dispose();
        return Reader.DisposeAsync();
    }
}
