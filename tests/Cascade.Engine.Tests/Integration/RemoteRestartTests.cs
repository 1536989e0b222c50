using System.Net;
using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Http;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers.Folder;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Reports;
using Cascade.Engine.Runtime;
using Cascade.Engine.State.Sqlite;
using Cascade.Engine.Tests.Alerts;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Integration;

/// <summary>
/// A remote run across a stop of the scheduler (issue 11, "activation across a crash"): a real
/// scheduler on a real SQLite file activates a real receiver on 127.0.0.1, is stopped while the run
/// waits for its marker, and a new scheduler over the same state is started. The receiver counts
/// the activations; the run_timeout runs on a <see cref="FakeTimeProvider"/> shared by both.
/// </summary>
public sealed class RemoteRestartTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly RunKey Remote = new("remote", Partition.Parse("20190312"));
    private readonly string _dir = Directory.CreateTempSubdirectory("cascade-restart-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2019, 3, 13, 2, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly HttpReceiver _receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.Accepted, TimeSpan.Zero));

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string StatePath => Path.Combine(_dir, ".cascade", "state.db");

    private Pipeline Load(string onRestart)
    {
        var file = Path.Combine(_dir, "cascade.yaml");
        File.WriteAllText(file, $$"""
            jobs:
              upstream:
                run: external
              remote:
                after: [upstream]
                run_timeout: 1h
                retries: 1
                retry_backoff: 1m
                run:
                  http:
                    url: "{{_receiver.BaseUrl}}/start"
                    body: { name: "{run_id}", attempt: "{attempt}" }
                    on_restart: {{onRestart}}
            """);
        var result = PipelineLoader.LoadFile(file);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }

    /// <summary>A scheduler like <c>cascade run</c>'s, on the shared fake clock; stopped by cancelling the token.</summary>
    private async Task<(Task Run, CancellationTokenSource Stop, FolderMarkerStore Markers)> StartAsync(Pipeline pipeline)
    {
        var markers = new FolderMarkerStore(Path.Combine(_dir, "markers"), pipeline.Definition.Layout, TimeProvider.System, NullLogger.Instance);
        var store = await SqliteRunStore.OpenAsync(StatePath, _clock);
        var executor = new ExecutorRouter(pipeline, CommandExecutors.Create(_dir, StatePath, Environment.GetEnvironmentVariable), new HttpExecutor(pipeline, _http, _clock, _ => null));
        var options = new EngineOptions { LogDirectory = Path.Combine(_dir, ".cascade", "logs"), ShutdownGrace = TimeSpan.Zero };
        var service = new SchedulerService(pipeline, options, store, markers, executor, _clock, NullLogger.Instance);
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
                service.Dispose();
                ready.TrySetResult();
            }
        });
        await ready.Task.WaitAsync(Bound);
        return (run, stop, markers);
    }

    private static async Task StopAsync((Task Run, CancellationTokenSource Stop, FolderMarkerStore Markers) scheduler)
    {
        await scheduler.Stop.CancelAsync();
        await scheduler.Run.WaitAsync(Bound);
        scheduler.Stop.Dispose();
    }

    private async Task<Run?> RunAsync()
    {
        await using var store = await SqliteRunStore.OpenAsync(StatePath, _clock);
        return await store.GetRunAsync(Remote, CancellationToken.None);
    }

    private async Task<RemoteActivation?> WhyAsync(Pipeline pipeline)
    {
        await using var store = await SqliteRunStore.OpenAsync(StatePath, _clock);
        return RemoteActivation.Of(await store.GetRunAsync(Remote, CancellationToken.None), pipeline[Remote.Job], await store.GetEventsAsync(Remote, CancellationToken.None));
    }

    private string Log(int attempt) => LogFiles.PathOf(Path.Combine(_dir, ".cascade", "logs"), Remote, 1, attempt);

    private Task WaitForLogAsync(int attempt, string text) => TempPipeline.WaitUntilAsync(
        () => Task.FromResult(File.Exists(Log(attempt)) && File.ReadAllText(Log(attempt)).Contains(text, StringComparison.Ordinal)), Bound, $"'{text}' in the log of attempt {attempt}");

    private Task WaitForAsync(Func<Run?, bool> condition, string what) => TempPipeline.WaitUntilAsync(async () => condition(await RunAsync()), Bound, what);

    /// <summary>Activates the remote run, then stops the scheduler while it waits for its marker.</summary>
    private async Task<Pipeline> ActivateAndStopAsync(string onRestart)
    {
        var pipeline = Load(onRestart);
        var first = await StartAsync(pipeline);
        await first.Markers.WriteAsync(new RunKey("upstream", Remote.Partition), Core.Markers.MarkerBody.Empty, CancellationToken.None);
        await _receiver.WaitForRequestsAsync(1, Bound);
        await WaitForLogAsync(1, "the run stays running until its marker appears");
        await StopAsync(first);
        Assert.Equal((RunState.Running, 1), ((await RunAsync())!.State, (await RunAsync())!.Attempt));
        return pipeline;
    }

    private static string Name(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("name").GetString()!;

    [Fact]
    public async Task Regression_11_a_scheduler_stopped_while_a_remote_run_waits_does_not_activate_it_again_on_the_next_start()
    {
        var pipeline = await ActivateAndStopAsync("wait");
        _clock.Advance(TimeSpan.FromMinutes(20));

        var second = await StartAsync(pipeline);
        await WaitForLogAsync(1, "not sent again (on_restart: wait)");

        Assert.Single(_receiver.Requests);
        var why = await WhyAsync(pipeline);
        Assert.Equal(
            "activation sent at 2019-03-13 02:00:00Z before the scheduler stopped; not sent again (on_restart: wait); waiting for its marker until run_timeout at 2019-03-13 03:00:00Z",
            why!.Why);

        await second.Markers.WriteAsync(Remote, Core.Markers.MarkerBody.Parse("""{"rows": 7}"""), CancellationToken.None);
        await WaitForAsync(r => r is { State: RunState.Succeeded }, "the remote run to succeed by its marker");
        await WaitForLogAsync(1, "marker observed: the run succeeded");
        await StopAsync(second);

        Assert.Single(_receiver.Requests);
        Assert.Equal(1, (await RunAsync())!.Attempt);
    }

    [Fact]
    public async Task With_wait_the_run_timeout_counts_from_the_activation_before_the_stop_and_fails_it_through_the_retry()
    {
        var pipeline = await ActivateAndStopAsync("wait");
        _clock.Advance(TimeSpan.FromMinutes(40));

        var second = await StartAsync(pipeline);
        await WaitForLogAsync(1, "waiting for its marker until run_timeout at 2019-03-13 03:00:00Z");

        // 40 + 19 minutes: still within the hour of the first activation.
        _clock.Advance(TimeSpan.FromMinutes(19));
        Assert.Equal(RunState.Running, (await RunAsync())!.State);

        _clock.Advance(TimeSpan.FromMinutes(1));
        await WaitForAsync(r => r is { State: RunState.Queued, Failures: 1 }, "the attempt to fail at its run_timeout and wait for its retry");
        Assert.Equal("no marker within run_timeout 1h after the activation", (await RunAsync())!.Reason);
        Assert.Single(_receiver.Requests);

        // The retry is a new attempt with a new run id, as after any failure.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await _receiver.WaitForRequestsAsync(2, Bound);
        Assert.Equal(["remote__20190312__g1a1", "remote__20190312__g1a2"], _receiver.Requests.Select(Name));
        await StopAsync(second);
    }

    [Fact]
    public async Task With_resend_the_next_start_sends_the_same_attempt_again_with_the_same_idempotency_value()
    {
        var pipeline = await ActivateAndStopAsync("resend");
        _clock.Advance(TimeSpan.FromMinutes(20));

        var second = await StartAsync(pipeline);
        await _receiver.WaitForRequestsAsync(2, Bound);
        await WaitForLogAsync(1, "sending it again (on_restart: resend");

        Assert.Equal(["remote__20190312__g1a1", "remote__20190312__g1a1"], _receiver.Requests.Select(Name));
        Assert.Equal(_receiver.Requests[0].Body, _receiver.Requests[1].Body);
        Assert.StartsWith("activation sent at 2019-03-13 02:00:00Z, sent again at 2019-03-13 02:20:00Z after a restart", (await WhyAsync(pipeline))!.Why, StringComparison.Ordinal);

        await second.Markers.WriteAsync(Remote, Core.Markers.MarkerBody.Empty, CancellationToken.None);
        await WaitForAsync(r => r is { State: RunState.Succeeded }, "the remote run to succeed by its marker");
        await StopAsync(second);
        Assert.Equal(2, _receiver.Requests.Count);
        Assert.Equal(1, (await RunAsync())!.Attempt);
    }
}
