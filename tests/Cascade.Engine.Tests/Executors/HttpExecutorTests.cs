using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Http;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Tests.Alerts;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Executors;

/// <summary>
/// <c>run.http</c> against a real HTTP receiver on 127.0.0.1: what is sent (placeholders URL- and
/// JSON-escaped, <c>${ENV}</c> secrets, AWS SigV4 checked by the receiver), which answers are retried
/// (5xx, timeouts) and which fail at once (4xx), and that a run lasts until its marker (or run_timeout).
/// </summary>
public sealed class HttpExecutorTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly string _logs = Directory.CreateTempSubdirectory("cascade-http-").FullName;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public const string AccessKey = "AKIDEXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLE";

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_logs, recursive: true);
    }

    private static Pipeline Load(string job)
    {
        var result = PipelineLoader.Load("jobs:\n  upstream:\n    run: external\n" + job, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }

    private HttpExecutor Executor(Pipeline pipeline, TimeProvider? time = null, Dictionary<string, string>? env = null) =>
        new(pipeline, _http, time ?? TimeProvider.System, name => env?.GetValueOrDefault(name), () => new BasicAWSCredentials(AccessKey, SecretKey))
        {
            FirstRetryDelay = TimeSpan.FromMilliseconds(10),
        };

    private static Activation Activation(string job, string partition, int attempt = 1, Dictionary<string, string>? parameters = null)
    {
        var key = new RunKey(job, Partition.Parse(partition));
        var runId = $"{job}__{partition}__g1a{attempt}";
        return new Activation(key, 1, attempt, runId, [], Placeholders.BuiltIns(key, runId, attempt), parameters ?? []);
    }

    private AttemptContext Context(Task? marker = null, string? log = null) => new("s3://b/x.done", log ?? Path.Combine(_logs, Guid.NewGuid().ToString("N") + ".log"))
    {
        MarkerObserved = marker ?? Task.CompletedTask,
    };

    [Fact]
    public async Task Placeholders_are_url_escaped_in_the_url_and_json_escaped_in_the_body_and_secrets_come_from_the_environment()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.Accepted, TimeSpan.Zero));
        var pipeline = Load($$"""
              remote:
                after: [upstream]
                run:
                  http:
                    url: "{{receiver.BaseUrl}}/run/{job}?region={params.region}&day={date}"
                    method: put
                    headers: { Authorization: "Bearer ${TOKEN}", X-Run: "{run_id}" }
                    body:
                      year: "{year}"
                      hour: "{hour}"
                      note: "{params.note}"
                      attempt: "{attempt}"
                      count: 3
                      flag: true
                      input: !json { partition: "{partition}", note: "{params.note}" }
                      list: ["{month}", "{day}"]
            """);
        var note = "a \"quoted\" line\nand ${TOKEN} {job}";
        var outcome = await Executor(pipeline, env: new() { ["TOKEN"] = "s3cret" })
            .ExecuteAsync(Activation("remote", "20190312", 2, new() { ["region"] = "eu west/1&x", ["note"] = note }), Context(), CancellationToken.None);

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("PUT", request.Method);
        Assert.Equal("/run/remote?region=eu%20west%2F1%26x&day=2019-03-12", request.RawPath);
        Assert.Equal("Bearer s3cret", request.Headers["Authorization"]);
        Assert.Equal("remote__20190312__g1a2", request.Headers["X-Run"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal("2019", root.GetProperty("year").GetString());
        Assert.Equal(string.Empty, root.GetProperty("hour").GetString());
        Assert.Equal(note, root.GetProperty("note").GetString());
        Assert.Equal("2", root.GetProperty("attempt").GetString());
        Assert.Equal(3, root.GetProperty("count").GetInt32());
        Assert.True(root.GetProperty("flag").GetBoolean());
        using var input = JsonDocument.Parse(root.GetProperty("input").GetString()!);
        Assert.Equal("20190312", input.RootElement.GetProperty("partition").GetString());
        Assert.Equal(note, input.RootElement.GetProperty("note").GetString());
        Assert.Equal(["03", "12"], root.GetProperty("list").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_5xx_is_sent_again_and_the_run_goes_on_when_a_later_try_succeeds()
    {
        await using var receiver = HttpReceiver.Start(n => new ReceiverAnswer(n < 3 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, TimeSpan.Zero));
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\", body: {{ id: \"{{run_id}}\" }} }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None);

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        Assert.Equal(3, receiver.Requests.Count);
        // The same request each time: a target that keys on the run id starts one job.
        Assert.Single(receiver.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task A_5xx_on_every_try_fails_the_attempt_for_a_retry_with_the_status_and_the_answer()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.BadGateway, TimeSpan.Zero) { Body = "upstream down" });
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\" }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None);

        var failed = Assert.IsType<AttemptOutcome.Failed>(outcome);
        Assert.True(failed.Retry);
        Assert.Equal($"POST http://127.0.0.1:{receiver.Port}/… answered 502 Bad Gateway after 3 tries: upstream down", failed.Reason);
        Assert.Equal(3, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_target_without_an_idempotency_key_is_not_sent_again_within_the_attempt()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.ServiceUnavailable, TimeSpan.Zero));
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\", resend: false }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None);

        Assert.Equal(new AttemptOutcome.Failed($"POST http://127.0.0.1:{receiver.Port}/… answered 503 Service Unavailable", Retry: true), outcome);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_4xx_fails_at_once_without_a_retry_with_the_status_and_the_start_of_the_answer()
    {
        var answer = """{"__type": "ValidationException", "message": "bad input"}""" + new string('x', 500);
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.BadRequest, TimeSpan.Zero) { Body = answer });
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\" }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None);

        var failed = Assert.IsType<AttemptOutcome.Failed>(outcome);
        Assert.False(failed.Retry);
        Assert.StartsWith($"POST http://127.0.0.1:{receiver.Port}/… answered 400 Bad Request: {{\"__type\": \"ValidationException\", \"message\": \"bad input\"}}xxx", failed.Reason, StringComparison.Ordinal);
        Assert.EndsWith("x…", failed.Reason, StringComparison.Ordinal);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_request_that_times_out_is_sent_again_then_fails_for_a_retry()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/slow\", timeout: 1s }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None).WaitAsync(Bound);

        var failed = Assert.IsType<AttemptOutcome.Failed>(outcome);
        Assert.True(failed.Retry);
        Assert.Equal($"POST http://127.0.0.1:{receiver.Port}/… failed after 3 tries: no answer within 1s", failed.Reason);
        Assert.Equal(3, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_receiver_that_is_down_fails_the_attempt_for_a_retry()
    {
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{HttpReceiver.DownUrl("/go")}\" }} }}\n");

        var outcome = await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None).WaitAsync(Bound);

        var failed = Assert.IsType<AttemptOutcome.Failed>(outcome);
        Assert.True(failed.Retry);
        Assert.Contains("failed after 3 tries: Connection refused", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_secret_or_a_line_break_in_a_header_value_sends_nothing()
    {
        await using var receiver = HttpReceiver.Start();
        var pipeline = Load($$"""
              secret:
                run: { http: { url: "{{receiver.BaseUrl}}/a", headers: { Authorization: "Bearer ${NOT_SET}" } } }
              header:
                run: { http: { url: "{{receiver.BaseUrl}}/b", headers: { X-Note: "{params.note}" } } }
            """);
        var executor = Executor(pipeline);

        var secret = await executor.ExecuteAsync(Activation("secret", "20190312"), Context(), CancellationToken.None);
        var header = await executor.ExecuteAsync(Activation("header", "20190312", parameters: new() { ["note"] = "a\r\nX-Injected: 1" }), Context(), CancellationToken.None);

        Assert.Equal(new AttemptOutcome.NotStarted("environment variable NOT_SET is not set (run.http)"), secret);
        Assert.Equal(new AttemptOutcome.NotStarted("the value of header X-Note holds a line break once filled in (refused: it would split the request)"), header);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task After_a_success_status_the_run_lasts_until_its_marker_or_fails_at_run_timeout()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.Accepted, TimeSpan.Zero));
        var pipeline = Load($"  remote:\n    run_timeout: 3h\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\" }} }}\n");
        var time = new FakeTimeProvider(new DateTimeOffset(2019, 3, 13, 2, 0, 0, TimeSpan.Zero));
        var executor = Executor(pipeline, time);
        var marker = new TaskCompletionSource();

        // The clock moves only once the attempt waits for its marker: earlier, it would time the request out.
        var first = Path.Combine(_logs, "with-marker.log");
        var withMarker = executor.ExecuteAsync(Activation("remote", "20190312"), Context(marker.Task, first), CancellationToken.None);
        await WaitUntilAsync(() => File.Exists(first) && ReadShared(first).Contains("activated", StringComparison.Ordinal));
        time.Advance(TimeSpan.FromHours(2));
        Assert.False(withMarker.IsCompleted);
        marker.SetResult();
        Assert.Equal(new AttemptOutcome.Exited(0), await withMarker.WaitAsync(Bound));

        var log = Path.Combine(_logs, "without-marker.log");
        var withoutMarker = executor.ExecuteAsync(Activation("remote", "20190313"), Context(new TaskCompletionSource().Task, log), CancellationToken.None);
        await WaitUntilAsync(() => File.Exists(log) && ReadShared(log).Contains("activated", StringComparison.Ordinal));
        time.Advance(TimeSpan.FromHours(3));
        var failed = Assert.IsType<AttemptOutcome.Failed>(await withoutMarker.WaitAsync(Bound));
        Assert.Equal(new AttemptOutcome.Failed("no marker within run_timeout 3h after the activation", Retry: true), failed);
    }

    [Fact]
    public async Task After_a_restart_with_on_restart_wait_nothing_is_sent_and_the_run_timeout_counts_from_the_recorded_start()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.Accepted, TimeSpan.Zero));
        var pipeline = Load($"  remote:\n    run_timeout: 3h\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\" }} }}\n");
        var t0 = new DateTimeOffset(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(t0.AddHours(2));
        var executor = Executor(pipeline, time);

        // Started 2 h ago: 1 h of its run_timeout is left.
        var log = Path.Combine(_logs, "resumed.log");
        File.WriteAllText(log, "before the restart\n");
        var resumed = executor.ExecuteAsync(Activation("remote", "20190312") with { StartedAt = t0, AfterRestart = RemoteRestart.Wait }, Context(new TaskCompletionSource().Task, log), CancellationToken.None);
        await WaitUntilAsync(() => ReadShared(log).Contains("until run_timeout at 2019-03-13 05:00:00Z", StringComparison.Ordinal));
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.False(resumed.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new AttemptOutcome.Failed("no marker within run_timeout 3h after the activation", Retry: true), await resumed.WaitAsync(Bound));
        Assert.StartsWith("before the restart\n", ReadShared(log), StringComparison.Ordinal);

        // A deadline that passed while no scheduler ran fails at once.
        var late = executor.ExecuteAsync(Activation("remote", "20190313") with { StartedAt = t0, AfterRestart = RemoteRestart.Wait }, Context(new TaskCompletionSource().Task), CancellationToken.None);
        Assert.Equal(new AttemptOutcome.Failed("no marker within run_timeout 3h after the activation", Retry: true), await late.WaitAsync(Bound));
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task After_a_restart_with_on_restart_resend_the_same_request_is_sent_again()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.Accepted, TimeSpan.Zero));
        var pipeline = Load($"  remote:\n    run: {{ http: {{ url: \"{receiver.BaseUrl}/go\", body: {{ name: \"{{run_id}}\" }}, on_restart: resend }} }}\n");
        var executor = Executor(pipeline);
        var marker = new TaskCompletionSource();
        var first = executor.ExecuteAsync(Activation("remote", "20190312"), Context(marker.Task), CancellationToken.None);
        var again = executor.ExecuteAsync(Activation("remote", "20190312") with { AfterRestart = RemoteRestart.Resend }, Context(marker.Task), CancellationToken.None);
        await receiver.WaitForRequestsAsync(2, Bound);
        marker.SetResult();
        await Task.WhenAll(first, again).WaitAsync(Bound);

        Assert.Equal(receiver.Requests[0].Body, receiver.Requests[1].Body);
        Assert.Contains("remote__20190312__g1a1", receiver.Requests[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_request_carries_a_sigv4_signature_that_the_receiver_verifies()
    {
        await using var receiver = HttpReceiver.Start();
        var pipeline = Load($$"""
              remote:
                run:
                  http:
                    url: "{{receiver.BaseUrl}}/"
                    headers: { X-Amz-Target: AWSStepFunctions.StartExecution, Content-Type: application/x-amz-json-1.0 }
                    body: { name: "{run_id}" }
                    aws: { service: states, region: eu-west-1 }
            """);

        await Executor(pipeline).ExecuteAsync(Activation("remote", "20190312"), Context(), CancellationToken.None);

        var request = Assert.Single(receiver.Requests);
        Assert.Null(SigV4Check.Problem(request, AccessKey, SecretKey, "states", "eu-west-1"));
        Assert.Equal("the signature does not match", SigV4Check.Problem(request, AccessKey, "another-secret", "states", "eu-west-1"));
        var tampered = request with { Body = request.Body.Replace("g1a1", "g1a2", StringComparison.Ordinal) };
        Assert.NotNull(SigV4Check.Problem(tampered, AccessKey, SecretKey, "states", "eu-west-1"));
        Assert.StartsWith("application/x-amz-json-1.0", request.Headers["Content-Type"], StringComparison.Ordinal);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Bound;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "condition not met in time");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }
}
