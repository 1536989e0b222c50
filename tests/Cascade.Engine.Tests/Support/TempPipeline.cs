using System.Diagnostics;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers.Folder;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Support;

/// <summary>
/// A real pipeline in a temp folder: real marker files, a real SQLite file, real processes.
/// Waits are bounded polls on a condition, never sleeps that hope. With
/// <c>CASCADE_TEST_STATE=postgres</c> (scripts/test.sh's second pass) the state is a schema of its
/// own in the PostgreSQL at <c>CASCADE_TEST_PG</c> instead, so the engine's tests run on both stores.
/// </summary>
internal sealed class TempPipeline : IAsyncDisposable
{
    private readonly List<(SchedulerService Service, Task Run, CancellationTokenSource Stop)> _services = [];

    private readonly string? _schema;

    private TempPipeline(string dir, Pipeline pipeline)
    {
        Dir = dir;
        Pipeline = pipeline;
        if (OnPostgres)
        {
            var server = PostgresServer.Require("CASCADE_TEST_STATE=postgres") ?? throw new InvalidOperationException("CASCADE_TEST_STATE=postgres needs CASCADE_TEST_PG");
            (_schema, var connection) = PostgresServer.NewSchemaAsync(server).GetAwaiter().GetResult();
            State = new StateSettings.Postgres(connection);
        }
        else
        {
            State = new StateSettings.Sqlite(StatePath);
        }

        Markers = new FolderMarkerStore(Path.Combine(dir, "markers"), pipeline.Definition.Layout, TimeProvider.System, NullLogger.Instance);
    }

    public string Dir { get; }

    public Pipeline Pipeline { get; }

    public FolderMarkerStore Markers { get; }

    public string StatePath => Path.Combine(Dir, ".cascade", "state.db");

    /// <summary>Whether this test run keeps the engine's state in PostgreSQL (<c>CASCADE_TEST_STATE=postgres</c>).</summary>
    public static bool OnPostgres => Environment.GetEnvironmentVariable("CASCADE_TEST_STATE") == "postgres";

    /// <summary>The state this pipeline's schedulers use: the SQLite file at <see cref="StatePath"/>, or a PostgreSQL schema of its own.</summary>
    public StateSettings State { get; }

    /// <summary>Opens the state read-write, as <c>cascade run</c> does.</summary>
    public Task<IStateStore> OpenStoreAsync() => StateStores.OpenAsync(State, TimeProvider.System, Environment.GetEnvironmentVariable, CancellationToken.None);

    public string LogDirectory => Path.Combine(Dir, ".cascade", "logs");

    public static TempPipeline Create(string yaml, params (string Path, string Content)[] files)
    {
        var dir = Path.Combine(Path.GetTempPath(), "cascade-it-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content.Replace("\r\n", "\n", StringComparison.Ordinal));
        }

        var file = Path.Combine(dir, "cascade.yaml");
        File.WriteAllText(file, yaml);
        var result = PipelineLoader.LoadFile(file);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return new TempPipeline(dir, result.Pipeline!);
    }

    public static RunKey Key(string job, string partition) => new(job, Partition.Parse(partition));

    public async Task WriteMarkerAsync(string job, string partition, string body = "")
    {
        await Markers.WriteAsync(Key(job, partition), Core.Markers.MarkerBody.Parse(body), CancellationToken.None);
    }

    /// <summary>Starts a scheduler in this process; returns once its start-up rescan is committed.</summary>
    public async Task<SchedulerService> StartAsync(Func<EngineOptions, EngineOptions>? configure = null, SchedulerLock? doorbell = null)
    {
        var options = new EngineOptions { LogDirectory = LogDirectory, MaxParallel = 8, ShutdownGrace = TimeSpan.FromSeconds(10) };
        options = configure?.Invoke(options) ?? options;
        var store = await OpenStoreAsync();
        var service = new SchedulerService(Pipeline, options, store, Markers, CommandExecutors.Create(Dir, StatePath, Environment.GetEnvironmentVariable), TimeProvider.System, NullLogger.Instance, doorbell: doorbell);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        var stop = new CancellationTokenSource();
        var run = Task.Run(async () =>
        {
            try
            {
                await service.RunAsync(stop.Token);
            }
            finally
            {
                await store.DisposeAsync();
                ready.TrySetResult();
            }
        });
        _services.Add((service, run, stop));
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (run.IsFaulted)
        {
            await run;
        }

        return service;
    }

    /// <summary>Runs a scheduler until idle (like <c>cascade run --until-idle</c>).</summary>
    public async Task RunUntilIdleAsync(int maxParallel = 8)
    {
        var store = await OpenStoreAsync();
        await using (store)
        {
            using var service = new SchedulerService(
                Pipeline,
                new EngineOptions { LogDirectory = LogDirectory, MaxParallel = maxParallel, UntilIdle = true },
                store,
                Markers,
                CommandExecutors.Create(Dir, StatePath, Environment.GetEnvironmentVariable),
                TimeProvider.System,
                NullLogger.Instance);
            await service.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    public async Task<Run?> RunAsync(string job, string partition)
    {
        await using var store = await OpenStoreAsync();
        return await store.GetRunAsync(Key(job, partition), CancellationToken.None);
    }

    public async Task<IReadOnlyList<Run>> AllRunsAsync()
    {
        await using var store = await OpenStoreAsync();
        return (await store.LoadAsync(CancellationToken.None)).Runs;
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds or the bound passes (then the test fails).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan bound, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > bound)
            {
                Assert.Fail($"timed out after {bound.TotalSeconds:0.#}s waiting for: {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }
    }

    public Task WaitForStateAsync(string job, string partition, RunState state, double seconds = 20) =>
        WaitUntilAsync(async () => (await RunAsync(job, partition))?.State == state, TimeSpan.FromSeconds(seconds), $"{job} {partition} to be {state}");

    public string ReadFile(string relative) => File.ReadAllText(Path.Combine(Dir, relative));

    public bool FileExists(string relative) => File.Exists(Path.Combine(Dir, relative));

    public async ValueTask DisposeAsync()
    {
        foreach (var (service, run, stop) in _services)
        {
            await stop.CancelAsync();
            try
            {
                await run.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                // stopped
            }

            service.Dispose();
            stop.Dispose();
        }

        if (_schema is not null && PostgresServer.ConnectionString is { } server)
        {
            await PostgresServer.DropSchemaAsync(server, _schema);
        }

        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a process of the test may still hold a file; the temp folder is cleaned by the OS
        }
    }
}
