using System.Text.Json;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Markers.Notifications.Sqs;
using Cascade.Engine.Runtime;
using Cascade.Engine.State.Sqlite;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Integration;

/// <summary>
/// The SQS route through the scheduler: an S3 notification sent to a queue (the real SDK against
/// <see cref="SqsTestServer"/>) is received by the consumer the scheduler service runs as a source,
/// handed to an intake, posted to the store's notices, and the downstream job starts — with the
/// periodic rescan an hour away, so only the notification can have started it.
/// </summary>
public sealed class SqsNotificationTests
{
    [Fact]
    public async Task A_marker_notified_through_the_queue_starts_downstream_once_without_a_rescan()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await using var server = await SqsTestServer.StartAsync(TimeProvider.System);
        var settings = new SqsSettings(server.QueueUrl, SqsTestServer.Region, server.Url, 20, null, 10);
        using var client = SqsClients.Create(settings, new BasicAWSCredentials(SqsTestServer.AccessKey, SqsTestServer.SecretKey));
        var markers = new NoticeFedMarkers(p.Markers);
        var consumer = new SqsConsumer(client, settings, new KeyPostingIntake(markers.Notices), TimeProvider.System, NullLogger.Instance);
        var store = await p.OpenStoreAsync();
        await using var _ = store;
        using var service = new SchedulerService(
            p.Pipeline,
            new EngineOptions { LogDirectory = p.LogDirectory, MaxParallel = 4, RescanInterval = TimeSpan.FromHours(1) },
            store,
            markers,
            CommandExecutors.Create(p.Dir, p.StatePath, Environment.GetEnvironmentVariable),
            TimeProvider.System,
            NullLogger.Instance,
            sources: [consumer]);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        using var stop = new CancellationTokenSource();
        var run = service.RunAsync(stop.Token);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await server.Queue.WaitUntilAsync(q => q.Held == 1, "the consumer's long poll held");

        // The producer writes its marker, and the bucket notifies the queue (twice, as S3 may).
        await p.WriteMarkerAsync("a", "20190312", """{"params": {"k": "v"}}""");
        const string Event = """{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a__20190312.done","eTag":"e1"}}}]}""";
        using (var producer = new AmazonSQSClient(new BasicAWSCredentials(SqsTestServer.AccessKey, SqsTestServer.SecretKey), new AmazonSQSConfig { ServiceURL = server.Url, AuthenticationRegion = SqsTestServer.Region }))
        {
            await producer.SendMessageAsync(new SendMessageRequest { QueueUrl = server.QueueUrl, MessageBody = Event });
            await producer.SendMessageAsync(new SendMessageRequest { QueueUrl = server.QueueUrl, MessageBody = Event });
        }

        await p.WaitForStateAsync("b", "20190312", RunState.Succeeded, seconds: 20);
        await server.Queue.WaitUntilAsync(q => q.Deleted.Count == 2, "both messages deleted");
        var b = await p.RunAsync("b", "20190312");
        Assert.Equal(1, b!.Attempt);
        Assert.Equal("v", b.Params["k"]);
        Assert.Equal("b 20190312", p.ReadFile("runs.log").Trim());

        var started = TimeProvider.System.GetTimestamp();
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the consumer's held poll did not hold up the stop");
        await server.Queue.WaitUntilAsync(q => q.Held == 0, "the held poll ended by the client");
        Assert.Empty(server.Problems);
    }

    /// <summary>
    /// The smallest stand-in for the notification intake (the real one parses every envelope, de-duplicates
    /// and queues durably): each record's key of a plain S3 event is posted to the store's notices.
    /// </summary>
    private sealed class KeyPostingIntake(MarkerNotices notices) : INotificationIntake
    {
        public ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, bool senderAuthenticated, CancellationToken cancellationToken)
        {
            using var json = JsonDocument.Parse(body);
            var queued = 0;
            foreach (var record in json.RootElement.GetProperty("Records").EnumerateArray())
            {
                notices.Post(record.GetProperty("s3").GetProperty("object").GetProperty("key").GetString()!);
                queued++;
            }

            return ValueTask.FromResult(new IntakeResult(queued, 0, 0));
        }
    }

    /// <summary>The real folder store, except that what it watches is the notices posted to it (as a bucket's store does), not the folder.</summary>
    private sealed class NoticeFedMarkers(IMarkerStore inner) : IMarkerStore
    {
        public MarkerNotices Notices { get; } = new();

        public MarkerLayout Layout => inner.Layout;

        public string Locate(RunKey key) => inner.Locate(key);

        public ValueTask WriteAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken) => inner.WriteAsync(key, body, cancellationToken);

        public ValueTask WriteKnownAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken) => inner.WriteKnownAsync(key, body, cancellationToken);

        public ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadAsync(key, cancellationToken);

        public ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken) => inner.ReadStoredAsync(key, cancellationToken);

        public ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken) => inner.SupersedeAsync(key, generation, cancellationToken);

        public IAsyncEnumerable<MarkerEntry> ScanAsync(CancellationToken cancellationToken) => inner.ScanAsync(cancellationToken);

        public IAsyncEnumerable<MarkerEntry> WatchAsync(CancellationToken cancellationToken) => Notices.ReadAllAsync(cancellationToken);
    }
}
