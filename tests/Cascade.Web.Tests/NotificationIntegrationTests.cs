using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers.S3;
using Cascade.Web.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Web.Tests;

/// <summary>
/// Guarantee 8 end to end in one process: a real Kestrel, a real scheduler, markers only in a bucket
/// on s3rver (127.0.0.1, <c>CASCADE_TEST_S3_URL</c>), and a rescan interval of an hour, so that
/// only the pushed notifications can start anything. Each notification is posted at least twice, in
/// each shape (S3, signed SNS, EventBridge), before and after a restart of the server (its memory of
/// deliveries lost): every run starts once. A replayed run's new marker — the same empty body, so the
/// same ETag, but a new sequencer — is queued, not taken for a duplicate.
/// </summary>
public sealed class NotificationIntegrationTests : IAsyncLifetime
{
    private SnsAuthority _sns = null!;

    public async Task InitializeAsync() => _sns = await SnsAuthority.StartAsync();

    public async Task DisposeAsync() => await _sns.DisposeAsync();

    private static string? S3Url(string test)
    {
        if (Environment.GetEnvironmentVariable("CASCADE_TEST_S3_URL") is { Length: > 0 } url)
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
            return url.TrimEnd('/');
        }

        var why = $"{test}: no S3-compatible server (CASCADE_TEST_S3_URL is not set; scripts/test.sh starts s3rver on 127.0.0.1 and sets it)";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", why);
        Console.WriteLine($"not run: {why}");
        return null;
    }

    private static AmazonS3Client Client(string url) => new(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
    {
        ServiceURL = url,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    private static string S3Event(string bucket, string key, string etag, string sequencer) =>
        "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"" + bucket
        + "\"},\"object\":{\"key\":\"" + key + "\",\"size\":0,\"eTag\":\"" + etag + "\",\"sequencer\":\"" + sequencer + "\"}}}]}";

    private static string EventBridge(string bucket, string key, string etag, string sequencer) =>
        "{\"version\":\"0\",\"id\":\"1\",\"detail-type\":\"Object Created\",\"source\":\"aws.s3\",\"account\":\"123456789012\",\"time\":\"2019-03-13T02:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],"
        + "\"detail\":{\"version\":\"0\",\"bucket\":{\"name\":\"" + bucket + "\"},\"object\":{\"key\":\"" + key + "\",\"size\":0,\"etag\":\"" + etag + "\",\"sequencer\":\"" + sequencer.ToLowerInvariant() + "\"},\"reason\":\"PutObject\"}}";

    [Fact]
    public async Task Each_notification_posted_twice_in_every_shape_starts_every_run_once_and_a_replay_s_new_marker_is_queued()
    {
        if (S3Url(nameof(Each_notification_posted_twice_in_every_shape_starts_every_run_once_and_a_replay_s_new_marker_is_queued)) is not { } url)
        {
            return;
        }

        var bucket = "n-" + Guid.NewGuid().ToString("N")[..20];
        using var s3 = Client(url);
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        var yaml = $$"""
            markers:
              s3: { bucket: {{bucket}}, prefix: done/, endpoint: "{{url}}", region: us-east-1 }
              rescan_interval: 1h
            events:
              sns: { topics: [{{SnsAuthority.Topic}}], certificate_hosts: [127.0.0.1] }
            jobs:
              extract:
                run: external
              load:
                after: [extract]
                run: { command: [sh, jobs/ok.sh] }
              report:
                after: [load]
                run: { command: [sh, jobs/ok.sh] }
            """;
        await using var host = await ApiHost.StartAsync(
            scheduler: true,
            yaml: yaml,
            markers: p => new S3MarkerStore(S3Clients.Create((MarkerSettings.S3)p.Definition.Markers), (MarkerSettings.S3)p.Definition.Markers, p.Definition.Layout, TimeProvider.System, NullLogger.Instance, jobs: p.Jobs.Select(j => j.Name)),
            snsHandler: _sns.Handler);

        // The producer writes its marker; the bucket notifies (SNS, EventBridge and S3's own shape, each twice).
        var put = await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "done/extract__20190312.done", ContentBody = string.Empty, UseChunkEncoding = false });
        var etag = put.ETag.Trim('"');
        var plain = S3Event(bucket, "done/extract__20190312.done", etag, "0055AED6DCD90281E5");
        var bodies = new[] { plain, _sns.Notification(plain), EventBridge(bucket, "done/extract__20190312.done", etag, "0055AED6DCD90281E5") };
        var queued = 0;
        foreach (var body in bodies.Concat(bodies))
        {
            using var response = await host.PostAsync("/api/events/s3", body, contentType: body.Contains("\"Signature\"", StringComparison.Ordinal) ? "text/plain" : "application/json");
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True((int)response.StatusCode == 202, answer.ToString());
            queued += answer.GetProperty("queued").GetInt32();
        }

        Assert.Equal(1, queued);
        await host.WaitForStateAsync("report", "20190312", RunState.Succeeded, seconds: 30); // an hour before any rescan
        Assert.Equal(1, (await host.RunAsync("load", "20190312"))!.Attempt);

        // The server restarts and forgets what it queued: the same deliveries are queued again, and the scheduler ignores them.
        await host.RestartServerAsync();
        long last = 0;
        foreach (var body in bodies.Concat(bodies))
        {
            using var response = await host.PostAsync("/api/events/s3", body, contentType: "application/json");
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True((int)response.StatusCode == 202, answer.ToString());
            if (answer.GetProperty("request").ValueKind == JsonValueKind.Number)
            {
                last = answer.GetProperty("request").GetInt64();
            }
        }

        Assert.NotEqual(0, last);
        await ApiHost.WaitUntilAsync(async () => (await host.GetJsonAsync($"/api/requests/{last}")).GetProperty("taken").GetBoolean(), TimeSpan.FromSeconds(20), "the notice to be taken");
        foreach (var job in new[] { "load", "report" })
        {
            var run = (await host.RunAsync(job, "20190312"))!;
            Assert.Equal((RunState.Succeeded, 1, 1), (run.State, run.Attempt, run.Generation));
        }

        // A replay of load writes its marker again: the same empty body (same ETag), a new sequencer — queued, not a duplicate.
        using (var replay = await host.PostAsync("/api/replay", "{\"job\": \"load\", \"from\": \"20190312\"}"))
        {
            Assert.Equal(202, (int)replay.StatusCode);
        }

        await ApiHost.WaitUntilAsync(async () => (await host.RunAsync("load", "20190312")) is { Generation: 2, State: RunState.Succeeded }, TimeSpan.FromSeconds(30), "load's replay to succeed");
        var loadEtag = (await s3.GetObjectMetadataAsync(bucket, "done/load__20190312.done")).ETag.Trim('"');
        Assert.Equal(etag, loadEtag); // both empty
        foreach (var (sequencer, expected) in new[] { ("0055AED6DD00000001", 1), ("0055AED6DD00000002", 1), ("0055AED6DD00000001", 0) })
        {
            using var response = await host.PostAsync("/api/events/s3", S3Event(bucket, "done/load__20190312.done", loadEtag, sequencer));
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(expected == answer.GetProperty("queued").GetInt32(), $"{sequencer}: {answer}");
        }

        var load = (await host.RunAsync("load", "20190312"))!;
        Assert.Equal((RunState.Succeeded, 1, 2), (load.State, load.Attempt, load.Generation));
        Assert.Equal(1, (await host.RunAsync("report", "20190312"))!.Attempt);
    }
}
