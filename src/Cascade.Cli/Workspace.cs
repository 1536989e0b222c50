using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Http;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Folder;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Markers.Notifications.Sqs;
using Cascade.Engine.Markers.S3;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Requests;
using Cascade.Engine.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Cli;

/// <summary>
/// The composition root for one command: the pipeline file and the places it names (marker
/// folder, state file, logs), all relative to the pipeline file's folder.
/// </summary>
internal sealed class Workspace
{
    private Workspace(Pipeline pipeline, string file)
    {
        Pipeline = pipeline;
        File = file;
        BaseDirectory = Path.GetDirectoryName(file)!;
        MarkerFolder = Path.GetFullPath(Path.Combine(BaseDirectory, pipeline.Definition.MarkerFolder));
        State = pipeline.Definition.State switch
        {
            StateSettings.Sqlite sqlite => new StateSettings.Sqlite(Path.GetFullPath(Path.Combine(BaseDirectory, sqlite.Path))),
            var other => other,
        };

        // A database has no path: this folder's lock, doorbell and logs live beside the pipeline file.
        StatePath = State is StateSettings.Sqlite db ? db.Path : Path.GetFullPath(Path.Combine(BaseDirectory, ".cascade", "postgres.state"));
        LogDirectory = Path.Combine(Path.GetDirectoryName(StatePath)!, "logs");
    }

    public Pipeline Pipeline { get; }

    public string File { get; }

    public string BaseDirectory { get; }

    public string MarkerFolder { get; }

    /// <summary>Where the state lives, a SQLite path made absolute.</summary>
    public StateSettings State { get; }

    /// <summary>
    /// The SQLite state file; for a PostgreSQL state, the local stand-in that keys this folder's
    /// scheduler lock, doorbell and orphan tag (<c>.cascade/postgres.state</c>, never a file of state).
    /// </summary>
    public string StatePath { get; }

    /// <summary>The state for people: a path relative to here, or the connection string without its password.</summary>
    public string StateShown => State is StateSettings.Sqlite ? Relative(StatePath) : State.Shown;

    public string LogDirectory { get; }

    /// <summary>Loads and validates the pipeline; a bad file is a <see cref="CliException"/> listing every error.</summary>
    public static Workspace Load(string file)
    {
        var full = FullPath(file, "-f/--file");
        var result = PipelineLoader.LoadFile(full);
        if (result.Pipeline is null)
        {
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
            var shown = relative.StartsWith("..", StringComparison.Ordinal) ? full : relative;
            var lines = result.Errors.Select(e => (e with { File = shown }).ToString()).ToList();
            lines.Add($"{lines.Count} error(s) in {shown}");
            throw new CliException(string.Join(Environment.NewLine, lines), raw: true);
        }

        return new Workspace(result.Pipeline, full);
    }

    /// <summary>The absolute path of a path the user gave, or a clear error (empty, a NUL in it).</summary>
    public static string FullPath(string path, string what)
    {
        if (path.Length == 0)
        {
            throw new CliException($"{what} is empty: give a path");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new CliException($"{what} contains a NUL character: give a path");
        }

        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException)
        {
            throw new CliException($"{what} '{path}' is not a usable path: {e.Message}");
        }
    }

    /// <summary>
    /// The marker store the pipeline names: its folder, or its bucket (an <see cref="S3MarkerStore"/>,
    /// which owns its client: dispose it). A bucket that cannot be reached fails on first use.
    /// </summary>
    public IMarkerStore Markers(TimeProvider time, ILogger? logger = null) => Pipeline.Definition.Markers switch
    {
        MarkerSettings.S3 s3 => new S3MarkerStore(S3Clients.Create(s3), s3, Pipeline.Definition.Layout, time, logger ?? NullLogger.Instance, jobs: Pipeline.Jobs.Select(j => j.Name)),
        _ => new FolderMarkerStore(MarkerFolder, Pipeline.Definition.Layout, time, logger ?? NullLogger.Instance),
    };

    /// <summary>
    /// The consumer of <c>events.sqs</c> (none without it), handing each message to
    /// <paramref name="intake"/>; it owns its SQS client: dispose it. A queue whose client cannot be
    /// built (no region) is a clear error before anything runs.
    /// </summary>
    public SqsConsumer? SqsConsumer(INotificationIntake intake, TimeProvider time, ILogger logger)
    {
        if (Pipeline.Definition.Events.Sqs is not { } sqs)
        {
            return null;
        }

        try
        {
            return new SqsConsumer(SqsClients.Create(sqs), sqs, intake, time, logger);
        }
        catch (IOException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>
    /// Where the messages of <c>events.sqs</c> are parsed, de-duplicated and queued durably for the
    /// scheduler (ADR 19): each notification's notices are one request row, left through the same
    /// desk as the API's (which keeps an intake of its own for <c>POST /api/events/s3</c>; the
    /// scheduler ignores a marker it already applied, so two de-duplication memories double nothing).
    /// </summary>
    public NotificationIntake NotificationIntake(HttpClient http, TimeProvider time, ILogger logger)
    {
        var desk = new Engine.Requests.RequestDesk(Pipeline, StatePath, time, Engine.Requests.FrontDoor.Api);
        return new NotificationIntake(Pipeline, QueueAsync, http, time, logger);

        async ValueTask<long> QueueAsync(Engine.State.Request notices, CancellationToken ct)
        {
            await using var writer = await OpenStateAsync(time, ct);
            return await desk.LeaveNoticesAsync(writer, notices, ct);
        }
    }

    /// <summary>What carries out attempts: commands as processes in the pipeline's folder, <c>run.http</c> jobs by HTTP (over <paramref name="http"/>).</summary>
    public IExecutor Executor(HttpClient http, TimeProvider time) =>
        new ExecutorRouter(Pipeline, CommandExecutor(), new HttpExecutor(Pipeline, http, time, Environment.GetEnvironmentVariable));

    /// <summary>Where the markers are, for people: the folder (relative to here) or <c>s3://bucket/prefix</c>.</summary>
    public string MarkersShown => Pipeline.Definition.Markers is MarkerSettings.S3 s3 ? s3.Url : Relative(MarkerFolder);

    /// <summary>A marker's location for people: a path relative to here, or its <c>s3://</c> URL as it is.</summary>
    public static string Shown(string location) => location.StartsWith("s3://", StringComparison.Ordinal) ? location : Relative(location);

    /// <summary>How this pipeline's commands start (ADR 13: posix_spawn on Linux, Process elsewhere, <c>CASCADE_EXECUTOR</c> to choose).</summary>
    private IExecutor CommandExecutor()
    {
        try
        {
            return CommandExecutors.Create(BaseDirectory, StatePath, Environment.GetEnvironmentVariable);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    public Task<IStateStore> OpenStateAsync(TimeProvider time, CancellationToken cancellationToken) =>
        StateStores.OpenAsync(State, time, Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>For commands that only read: no schema script, no write transaction.</summary>
    public Task<IStateStore> OpenStateForReadingAsync(TimeProvider time, CancellationToken cancellationToken) =>
        StateStores.OpenForReadingAsync(State, time, Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>The job, or a clear error naming the jobs there are.</summary>
    public JobDefinition Job(string name) => Targets.Job(Pipeline, name);

    /// <summary>A run key whose partition fits the job's grain.</summary>
    public RunKey Key(string job, string partition) => Targets.Key(Pipeline, job, partition);

    /// <summary>A partition or an inclusive range <c>FROM..TO</c> of the job's grain (replay, cancel, done).</summary>
    public (Partition From, Partition To) Range(string job, string text) => Targets.Range(Pipeline, job, text);

    /// <summary>The request path the CLI's write commands share with the HTTP API.</summary>
    public RequestDesk Desk(TimeProvider time) => new(Pipeline, StatePath, time, FrontDoor.Cli);

    public static string Relative(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);
}
