using System.Net;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Markers.Notifications.Sqs;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Markers.Notifications;

/// <summary>
/// The SQS consumer with the real AWS SDK against a real SQS-compatible server on 127.0.0.1
/// (<see cref="SqsTestServer"/>: Kestrel, the SQS JSON protocol, SigV4 checked), the intake being a
/// recording test double of the other half. The queue's visibility timeout and the consumer's
/// back-off both run on one <see cref="FakeTimeProvider"/>: nothing waits on the wall clock.
/// </summary>
public sealed class SqsConsumerTests : IAsyncLifetime, IDisposable
{
    private const string S3Event = """{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"done/a__20190312.done","eTag":"e1","sequencer":"01"}}}]}""";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private readonly RecordingIntake _intake = new();
    private readonly ListLogger _log = new();
    private readonly CancellationTokenSource _stop = new();
    private SqsTestServer _server = null!;
    private IAmazonSQS? _client;
    private Task? _run;

    public async Task InitializeAsync() => _server = await SqsTestServer.StartAsync(_time);

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _client?.Dispose();
        await _server.DisposeAsync();
        Assert.Empty(_server.Problems);
    }

    public void Dispose() => _stop.Dispose();

    [Fact]
    public async Task The_sdk_speaks_signed_json_to_the_server_and_a_message_is_deleted_only_after_the_intake_returned()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _intake.Hold = hold;
        var id = await SendAsync(S3Event);
        Start();

        await _intake.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Empty(_server.Queue.Deleted);
        Assert.False(_server.Calls.ContainsKey("DeleteMessageBatch"));

        hold.SetResult();
        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 1, "the message deleted");
        Assert.Equal([id], _server.Queue.Deleted);
        Assert.Equal([S3Event], _intake.Accepted);
        Assert.All(_intake.Calls, c => Assert.Equal(NotificationChannel.Sqs, c.Channel));
        Assert.Equal(1, _server.Calls["DeleteMessageBatch"]);
        Assert.Empty(_server.Problems); // every request signed for sqs/us-east-1 and in the JSON protocol
    }

    [Fact]
    public async Task The_consumer_long_polls_with_the_settings_wait_and_batch_size()
    {
        Start(Settings() with { WaitSeconds = 7, MaxMessages = 3 });
        await _server.Queue.WaitUntilAsync(q => q.Held == 1, "a poll held");

        // 7 s on the queue's clock end the poll with nothing; the consumer asks again at once.
        _time.Advance(TimeSpan.FromSeconds(7));
        await _server.Queue.WaitUntilAsync(_ => _server.Calls.GetValueOrDefault("ReceiveMessage") >= 2, "a second poll");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await SendAsync($"{{\"n\": {i}}}"));
        }

        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 5, "all five deleted");
        Assert.Equal(ids, _server.Queue.Deleted);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{{\"n\": {i}}}"), _intake.Accepted);
        Assert.Equal(5, _server.Queue.Deliveries.Count);
    }

    [Fact]
    public async Task A_transient_failure_leaves_the_message_which_comes_back_after_the_visibility_timeout_and_is_then_handled_once()
    {
        _intake.FailNext(1);
        var id = await SendAsync(S3Event);
        Start(Settings() with { VisibilityTimeout = TimeSpan.FromSeconds(90) });

        await _intake.WaitForCallsAsync(1);
        await _server.Queue.WaitUntilAsync(q => q.Held == 1, "the next poll held");
        Assert.Empty(_server.Queue.Deleted);
        Assert.Equal(0, _server.Queue.Visible); // in flight: hidden until its visibility timeout

        _time.Advance(TimeSpan.FromSeconds(89));
        await _server.Queue.WaitUntilAsync(q => q.Held == 1 && _server.Calls["ReceiveMessage"] >= 3, "polls go on while the message is hidden");
        Assert.Single(_server.Queue.Deliveries);

        _time.Advance(TimeSpan.FromSeconds(1));
        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 1, "the message deleted on its second delivery");
        Assert.Equal([(id, 1), (id, 2)], _server.Queue.Deliveries);
        Assert.Equal(["failed", "accepted"], _intake.Calls.Select(c => c.Outcome));
        var line = Assert.Single(_log.Lines, l => l.Message.Contains("not taken", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains($"message {id} not taken (the state store is busy (database is locked))", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicates_in_the_queue_are_handed_on_as_they_are_and_all_deleted()
    {
        // S3 may notify twice, and an SNS subscription with raw delivery off wraps the event: the consumer
        // hands every body on unchanged; de-duplicating and unwrapping are the intake's.
        const string InSns = """{"Type":"Notification","MessageId":"x","TopicArn":"arn:aws:sns:us-east-1:123456789012:done","Message":"{\"Records\":[]}","Signature":"s"}""";
        var ids = new[] { await SendAsync(S3Event), await SendAsync(S3Event), await SendAsync(InSns) };
        Start();

        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 3, "all three deleted");
        Assert.Equal(ids.Order(), _server.Queue.Deleted.Order());
        Assert.Equal([S3Event, S3Event, InSns], _intake.Accepted);
    }

    [Fact]
    public async Task A_refused_message_is_deleted_with_one_warning_that_names_it_and_the_reason()
    {
        _intake.Refuse = body => body.StartsWith('{') ? null : "not JSON";
        var bad = await SendAsync("hello");
        var good = await SendAsync(S3Event);
        Start();

        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 2, "both deleted");
        Assert.Equal(["refused", "accepted"], _intake.Calls.Select(c => c.Outcome));
        var line = Assert.Single(_log.Lines, l => l.Message.Contains("refused", StringComparison.Ordinal));
        Assert.Equal($"sqs {_server.QueueUrl}: message {bad} refused (not JSON); deleted (the periodic listing finds any marker it named)", line.Message);
        Assert.Contains(good, _server.Queue.Deleted);
    }

    [Fact]
    public async Task Answers_of_5xx_are_retried_with_back_off_and_the_consumer_goes_on()
    {
        var id = await SendAsync(S3Event);
        _server.FailNext(3);
        Start();

        await AdvanceUntilAsync(() => _server.Queue.Deleted.Count == 1, "the message deleted after three failed receives");
        Assert.Equal([id], _server.Queue.Deleted);
        var failures = _log.Lines.Where(l => l.Message.Contains("receiving failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Null(f.Exception); // one line, no stack trace
            Assert.DoesNotContain('\n', f.Message);
            Assert.Contains("InternalError, HTTP 500", f.Message, StringComparison.Ordinal);
        });
        Assert.Contains(_log.Lines, l => l.Message == $"sqs {_server.QueueUrl}: receiving again");
    }

    [Fact]
    public async Task A_server_that_is_down_is_retried_and_the_consumer_recovers_when_it_is_back()
    {
        Start();
        await _server.Queue.WaitUntilAsync(q => q.Held == 1, "a poll held");

        await _server.StopAsync(); // the held poll's connection is closed; then nothing listens
        await WaitForLogAsync("receiving failed", 1);
        var id = _server.Queue.Send(S3Event); // queued while the server is down (the test's own hand)
        await _server.StartAgainAsync();

        await AdvanceUntilAsync(() => _server.Queue.Deleted.Count == 1, "the message deleted once the server is back");
        Assert.Equal([id], _server.Queue.Deleted);
        Assert.Equal([S3Event], _intake.Accepted);
        Assert.All(_log.Lines.Where(l => l.Message.Contains("receiving failed", StringComparison.Ordinal)), f =>
        {
            Assert.Null(f.Exception);
            Assert.DoesNotContain('\n', f.Message);
            Assert.Matches("trying again in [0-9]", f.Message);
        });
    }

    [Fact]
    public async Task A_delete_that_fails_is_retried_then_given_up_and_the_message_comes_back_to_the_intake()
    {
        var id = await SendAsync(S3Event);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _intake.Hold = hold;
        Start(Settings() with { VisibilityTimeout = TimeSpan.FromMinutes(10) }); // not back while the deletes are tried
        await _intake.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        _server.FailNext(1 + SqsConsumer.DeleteRetries); // every try of the delete
        hold.SetResult();

        await AdvanceUntilAsync(() => _log.Lines.Any(l => l.Message.Contains("not deleted", StringComparison.Ordinal)), "the delete given up");
        Assert.Empty(_server.Queue.Deleted);
        Assert.Equal(1 + SqsConsumer.DeleteRetries, _server.Calls["DeleteMessageBatch"]);

        _intake.Hold = null;
        _time.Advance(TimeSpan.FromMinutes(10));
        await _server.Queue.WaitUntilAsync(q => q.Deleted.Count == 1, "deleted on its second delivery");
        Assert.Equal([id], _server.Queue.Deleted);
        Assert.Equal([S3Event, S3Event], _intake.Accepted); // the intake de-duplicates the second
    }

    [Fact]
    public async Task Cancellation_ends_a_long_poll_in_flight_at_once()
    {
        Start();
        await _server.Queue.WaitUntilAsync(q => q.Held == 1, "a poll held");

        var started = TimeProvider.System.GetTimestamp();
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(5)); // the poll would hold for 20 s (and never ends on this clock)
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
        await _server.Queue.WaitUntilAsync(q => q.Held == 0, "the held poll ended by the client");
        Assert.Empty(_intake.Calls);
        Assert.DoesNotContain(_log.Lines, l => l.Level >= LogLevel.Warning);
    }

    /// <summary>The SDK takes the error code from <c>x-amzn-query-error</c> when AWS sends it (the JSON protocol's query compatibility), as here.</summary>
    [Fact]
    public async Task A_queue_that_does_not_exist_is_one_clear_line_per_try_and_the_consumer_keeps_trying()
    {
        Start(Settings() with { QueueUrl = _server.Url + "/000000000000/missing" });
        await WaitForLogAsync("receiving failed", 1);
        await AdvanceUntilAsync(() => _log.Lines.Count(l => l.Message.Contains("receiving failed", StringComparison.Ordinal)) >= 2, "a second try");

        var line = _log.Lines.First(l => l.Message.Contains("receiving failed", StringComparison.Ordinal)).Message;
        Assert.StartsWith($"sqs {_server.Url}/000000000000/missing: receiving failed (AWS.SimpleQueueService.NonExistentQueue, HTTP 400: The specified queue does not exist.); trying again in ", line, StringComparison.Ordinal);
    }

    private SqsSettings Settings() => new(_server.QueueUrl, SqsTestServer.Region, _server.Url, SqsSettings.DefaultWaitSeconds, null, SqsSettings.DefaultMaxMessages);

    private void Start(SqsSettings? settings = null)
    {
        settings ??= Settings();
        _client = SqsClients.Create(settings, new BasicAWSCredentials(SqsTestServer.AccessKey, SqsTestServer.SecretKey));
        var consumer = new SqsConsumer(_client, settings, _intake, _time, _log);
        Assert.Equal($"sqs {settings.QueueUrl}", consumer.Describe);
        _run = Task.Run(() => consumer.RunAsync(_stop.Token));
    }

    /// <summary>A producer's SendMessage through the SDK (so the server's SendMessage is exercised too).</summary>
    private async Task<string> SendAsync(string body)
    {
        using var client = new AmazonSQSClient(new BasicAWSCredentials(SqsTestServer.AccessKey, SqsTestServer.SecretKey), new AmazonSQSConfig { ServiceURL = _server.Url, AuthenticationRegion = SqsTestServer.Region, MaxErrorRetry = 0 });
        var sent = await client.SendMessageAsync(new SendMessageRequest { QueueUrl = _server.QueueUrl, MessageBody = body });
        return sent.MessageId;
    }

    /// <summary>Moves the shared clock on (the consumer's back-off, the queue's polls and timeouts) until <paramref name="condition"/> holds; bounded in real time.</summary>
    private async Task AdvanceUntilAsync(Func<bool> condition, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30), $"never got to: {what}; log: {string.Join(" | ", _log.Lines.Select(l => l.Message))}");
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(_server.Queue.Changed, Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System));
        }
    }

    private async Task WaitForLogAsync(string text, int count)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (_log.Lines.Count(l => l.Message.Contains(text, StringComparison.Ordinal)) < count)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"no {count} log line(s) with '{text}': {string.Join(" | ", _log.Lines.Select(l => l.Message))}");
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }
    }
}
