using Cascade.Core.Pipelines;
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

    /// <summary>A read-write connection for one request (enqueueing); the caller disposes it.</summary>
    public Task<IStateStore> OpenWriterAsync(CancellationToken ct) => StateStores.OpenAsync(Options.State, Time, Environment.GetEnvironmentVariable, ct);

    public ValueTask DisposeAsync()
    {
        Changes.Dispose();
        return Reader.DisposeAsync();
    }
}
