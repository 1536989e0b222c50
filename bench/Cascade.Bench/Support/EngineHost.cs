using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers.Folder;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Runtime;
using Cascade.Engine.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Bench.Support;

/// <summary>
/// The engine in this process, composed as <c>cascade run</c> composes it: the pipeline file, a
/// <see cref="FolderMarkerStore"/> (watching the folder), a <see cref="SqliteRunStore"/> on disk and
/// a <see cref="SchedulerService"/>. <see cref="StartAsync"/> returns once the start-up rescan is
/// committed (<see cref="SchedulerService.Ready"/>).
/// </summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private readonly SqliteRunStore _store;
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    private EngineHost(SchedulerService service, SqliteRunStore store)
    {
        Service = service;
        _store = store;
    }

    public SchedulerService Service { get; }

    public static Pipeline Load(string file)
    {
        var result = PipelineLoader.LoadFile(file);
        return result.Pipeline ?? throw new InvalidOperationException($"generated pipeline {file} is invalid:\n{string.Join('\n', result.Errors)}");
    }

    /// <summary>The executor <c>cascade run</c> would pick here (posix_spawn on Linux; <c>CASCADE_EXECUTOR</c> chooses).</summary>
    public static IExecutor DefaultExecutor(string workingDirectory) =>
        CommandExecutors.Create(workingDirectory, null, Environment.GetEnvironmentVariable);

    public static FolderMarkerStore MarkersOf(Workdir dir, Pipeline pipeline) =>
        new(Path.Combine(dir.Root, pipeline.Definition.MarkerFolder), pipeline.Definition.Layout, TimeProvider.System, NullLogger.Instance);

    /// <summary>
    /// Starts a scheduler on <paramref name="dir"/>; <paramref name="subscribe"/> hooks its events
    /// before it runs. Returns after <see cref="SchedulerService.Ready"/>.
    /// </summary>
    public static async Task<EngineHost> StartAsync(Workdir dir, Pipeline pipeline, IExecutor executor, int maxParallel, Action<SchedulerService> subscribe, bool untilIdle = false)
    {
        var store = await SqliteRunStore.OpenAsync(dir.StatePath, TimeProvider.System);
        var options = new EngineOptions
        {
            LogDirectory = dir.LogDirectory,
            MaxParallel = maxParallel,
            UntilIdle = untilIdle,
            RescanInterval = pipeline.Definition.RescanInterval,
            ShutdownGrace = TimeSpan.FromSeconds(30),
        };
        var service = new SchedulerService(pipeline, options, store, MarkersOf(dir, pipeline), executor, TimeProvider.System, NullLogger.Instance);
        var host = new EngineHost(service, store);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        subscribe(service);
        host._run = Task.Run(async () =>
        {
            try
            {
                await service.RunAsync(host._stop.Token);
            }
            finally
            {
                ready.TrySetResult();
            }
        });
        await ready.Task.WaitAsync(TimeSpan.FromMinutes(5), TimeProvider.System);
        if (host._run.IsFaulted)
        {
            await host._run;
        }

        return host;
    }

    /// <summary>Stops the scheduler (as SIGTERM does) and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
        catch (TimeoutException)
        {
            Service.KillRunning();
        }

        Service.Dispose();
        await _store.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>An executor that does nothing: every attempt "exits 0" at once (the engine then writes the empty marker).</summary>
internal sealed class NoopExecutor : IExecutor
{
    private static readonly Task<AttemptOutcome> Done = Task.FromResult<AttemptOutcome>(new AttemptOutcome.Exited(0));

    public Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
    {
        context.Started?.Invoke();
        return Done;
    }
}
