using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Folder;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Runtime;
using Cascade.Engine.State.Sqlite;
using Cascade.Web.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Web.Tests.Support;

/// <summary>
/// A real pipeline in a temp folder (marker files, a SQLite state file, real processes) served by
/// a real Kestrel on 127.0.0.1, port 0; optionally with a scheduler in the same process, as
/// <c>cascade run</c> hosts it. Waits are bounded polls on a condition.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string Yaml = """
        jobs:
          extract:
            run: external
          load:
            after: [extract]
            run: { command: [sh, jobs/ok.sh] }
          report:
            after: [load]
            run: { command: [sh, jobs/ok.sh] }
          hourly:
            grain: hourly
            run: { command: [sh, jobs/ok.sh] }
          slow:
            run: { command: [sh, jobs/slow.sh] }
        """;

    private CancellationTokenSource? _stop;
    private Task? _scheduler;
    private SqliteRunStore? _store;

    private ApiHost(string dir, Pipeline pipeline, Func<Pipeline, IMarkerStore>? markers)
    {
        Dir = dir;
        Pipeline = pipeline;
        Markers = markers?.Invoke(pipeline) ?? new FolderMarkerStore(Path.Combine(dir, "markers"), pipeline.Definition.Layout, TimeProvider.System, NullLogger.Instance);
    }

    public string Dir { get; }

    public Pipeline Pipeline { get; }

    public IMarkerStore Markers { get; }

    /// <summary>Every line the server logged (refused notifications, confirmed subscriptions).</summary>
    public ListLogger Log { get; } = new();

    /// <summary>The handler the server fetches SNS certificates with (a test's own authority).</summary>
    public HttpMessageHandler? SnsHandler { get; init; }

    public string StatePath => Path.Combine(Dir, ".cascade", "state.db");

    public string LogDirectory => Path.Combine(Dir, ".cascade", "logs");

    public WebServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public SchedulerService? Scheduler { get; private set; }

    public SchedulerMetrics? Metrics { get; private set; }

    public Cascade.Web.Metrics.MetricsExport? Export { get; private set; }

    public List<string> Errors { get; } = [];

    /// <summary>A served pipeline; <paramref name="scheduler"/> runs one in this process (as <c>cascade run</c>).</summary>
    public static async Task<ApiHost> StartAsync(bool scheduler = false, string? token = null, string yaml = Yaml, Func<Pipeline, IMarkerStore>? markers = null, HttpMessageHandler? snsHandler = null)
    {
        var dir = Directory.CreateTempSubdirectory("cascade-web-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "jobs"));
        Directory.CreateDirectory(Path.Combine(dir, "markers")); // as `cascade init` makes it: watched from the start
        File.WriteAllText(Path.Combine(dir, "jobs/ok.sh"), "echo ok\n");
        File.WriteAllText(Path.Combine(dir, "jobs/slow.sh"), "echo first line\nwhile [ ! -f release ]; do sleep 0.02; done\necho second line\n");
        File.WriteAllText(Path.Combine(dir, "cascade.yaml"), yaml);
        var result = PipelineLoader.LoadFile(Path.Combine(dir, "cascade.yaml"));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var host = new ApiHost(dir, result.Pipeline!, markers) { SnsHandler = snsHandler };
        await using (await SqliteRunStore.OpenAsync(host.StatePath, TimeProvider.System))
        {
            // the state exists before the server reads it, as after a first `cascade run`
        }

        if (scheduler)
        {
            host.Metrics = new SchedulerMetrics("Cascade.Test." + Guid.NewGuid().ToString("N")[..8]);
            host.Export = Cascade.Web.Metrics.MetricsExport.Start(host.Metrics.MeterName);
            await host.StartSchedulerAsync();
        }

        host.Server = await WebServer.StartAsync(host.Options(token), CancellationToken.None);
        host.Http = new HttpClient { BaseAddress = new Uri(host.Server.Addresses[0]), Timeout = TimeSpan.FromSeconds(30) };
        return host;
    }

    public WebOptions Options(string? token, string urls = "http://127.0.0.1:0") => new()
    {
        Urls = urls,
        Token = token is null ? null : new BearerToken(token),
        Pipeline = Pipeline,
        StatePath = StatePath,
        LogDirectory = LogDirectory,
        Markers = Markers,
        Scheduler = Scheduler,
        Metrics = Metrics,
        Export = Export,
        ChangePoll = TimeSpan.FromMilliseconds(200),
        Logger = Log,
        SnsHandler = SnsHandler,
        OnError = e =>
        {
            lock (Errors)
            {
                Errors.Add(e);
            }
        },
    };

    private async Task StartSchedulerAsync()
    {
        _store = await SqliteRunStore.OpenAsync(StatePath, TimeProvider.System);
        var doorbell = SchedulerLock.Acquire(StatePath);
        var service = new SchedulerService(Pipeline, new EngineOptions { LogDirectory = LogDirectory, ShutdownGrace = TimeSpan.FromSeconds(5), RescanInterval = Pipeline.Definition.RescanInterval }, _store, Markers, new ProcessExecutor(Dir, StatePath), TimeProvider.System, NullLogger.Instance, doorbell: doorbell, metrics: Metrics);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        _stop = new CancellationTokenSource();
        var stop = _stop.Token;
        _scheduler = Task.Run(async () =>
        {
            try
            {
                await service.RunAsync(stop);
            }
            finally
            {
                doorbell.Dispose();
                ready.TrySetResult();
            }
        });
        Scheduler = service;
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public static RunKey Key(string job, string partition) => new(job, Partition.Parse(partition));

    /// <summary>Runs a scheduler until idle (as <c>cascade run --until-idle</c>), for a served state without a scheduler.</summary>
    public async Task RunUntilIdleAsync()
    {
        await using var store = await SqliteRunStore.OpenAsync(StatePath, TimeProvider.System);
        using var service = new SchedulerService(Pipeline, new EngineOptions { LogDirectory = LogDirectory, UntilIdle = true }, store, Markers, new ProcessExecutor(Dir, StatePath), TimeProvider.System, NullLogger.Instance);
        await service.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
    }

    public Task WriteMarkerAsync(string job, string partition) =>
        Markers.WriteAsync(Key(job, partition), Core.Markers.MarkerBody.Empty, CancellationToken.None).AsTask();

    public async Task<Run?> RunAsync(string job, string partition)
    {
        await using var store = await SqliteRunStore.OpenForReadingAsync(StatePath, TimeProvider.System);
        return await store.GetRunAsync(Key(job, partition), CancellationToken.None);
    }

    public Task WaitForStateAsync(string job, string partition, RunState state, double seconds = 20) =>
        WaitUntilAsync(async () => (await RunAsync(job, partition))?.State == state, TimeSpan.FromSeconds(seconds), $"{job} {partition} to be {state}");

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

    /// <summary>Every row of every table of the state, and every file of the marker folder: what a refused request must leave as it was.</summary>
    public string Dump()
    {
        var text = new StringBuilder();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StatePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            connection.Open();
            foreach (var table in new[] { "meta", "runs", "attempts", "events", "seen_blocks", "cursors", "requests" })
            {
                using var cmd = connection.CreateCommand();
                cmd.CommandText = $"SELECT * FROM {table} ORDER BY 1, 2;";
                using var reader = cmd.ExecuteReader();
                text.Append("== ").AppendLine(table);
                while (reader.Read())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        text.Append(reader.IsDBNull(i) ? "NULL" : reader.GetValue(i).ToString()).Append('|');
                    }

                    text.AppendLine();
                }
            }
        }

        var markers = Path.Combine(Dir, "markers");
        if (Directory.Exists(markers))
        {
            foreach (var file in Directory.GetFiles(markers, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                text.Append("marker ").Append(Path.GetRelativePath(markers, file)).Append(' ').AppendLine(File.ReadAllText(file));
            }
        }

        return text.ToString();
    }

    public Task<HttpResponseMessage> PostAsync(string path, string? json, string? token = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return Http.SendAsync(request);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a problem document: the status, the content type, and a detail containing <paramref name="detail"/>.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, int status, string detail, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }

        return problem;
    }

    /// <summary>Stops the server and starts a new one on the same state (its memory of deliveries is lost, as in a restart).</summary>
    public async Task RestartServerAsync(string? token = null)
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Server = await WebServer.StartAsync(Options(token), CancellationToken.None);
        Http = new HttpClient { BaseAddress = new Uri(Server.Addresses[0]), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (_stop is not null)
        {
            await _stop.CancelAsync();
            try
            {
                await _scheduler!.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                // stopped
            }

            Scheduler!.Dispose();
            _stop.Dispose();
            await _store!.DisposeAsync();
        }

        Export?.Dispose();
        Metrics?.Dispose();
        (Markers as IDisposable)?.Dispose();
        Assert.Empty(Errors); // no request failed inside the server
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a process of the test may still hold a file
        }
    }
}
