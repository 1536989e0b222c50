using System.Text.Json;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary>
/// <c>POST /api/events/s3</c> against a real Kestrel: S3 events queued as one notice row each, deliveries
/// seen already dropped; SNS messages signed by a certificate served over https on 127.0.0.1, refused
/// when tampered, unsigned, from an unlisted topic or with a certificate off an SNS host — each
/// refusal a problem and a log line, the state and marker folder unchanged; subscriptions confirmed
/// only for listed topics; the bearer token asked only of what is not signed.
/// </summary>
public sealed class S3EventsApiTests : IAsyncLifetime
{
    private const string Token = "s3cr3t-token";

    private SnsAuthority _sns = null!;

    public async Task InitializeAsync() => _sns = await SnsAuthority.StartAsync();

    public async Task DisposeAsync() => await _sns.DisposeAsync();

    private static string Yaml(bool verify = true) => $$"""
        markers:
          s3: { bucket: markers, prefix: done/, endpoint: "http://127.0.0.1:9", region: us-east-1 }
        events:
          sns:
            topics: [{{SnsAuthority.Topic}}]
            verify_signatures: {{(verify ? "true" : "false")}}
            certificate_hosts: [127.0.0.1]
        jobs:
          extract:
            run: external
          load:
            after: [extract]
            run: { command: [sh, jobs/ok.sh] }
        """;

    private Task<ApiHost> StartAsync(string? token = null, bool verify = true) => ApiHost.StartAsync(token: token, yaml: Yaml(verify), snsHandler: _sns.Handler);

    private static string S3(string key = "done/extract__20190312.done", string sequencer = "0055AED6DCD90281E5", string bucket = "markers") =>
        "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"" + bucket
        + "\"},\"object\":{\"key\":\"" + key + "\",\"size\":0,\"eTag\":\"d41d8cd98f00b204e9800998ecf8427e\",\"sequencer\":\"" + sequencer + "\"}}}]}";
    private static async Task<JsonElement> AcceptedAsync(HttpResponseMessage response, int status = 202)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<List<string>> NoticesAsync(ApiHost host)
    {
        await using var store = await Cascade.Engine.State.Sqlite.SqliteRunStore.OpenForReadingAsync(host.StatePath, TimeProvider.System);
        return (await store.PendingRequestsAsync(CancellationToken.None)).SelectMany(r => r.Notices()).Select(n => n.RelativePath).ToList();
    }

    [Fact]
    public async Task An_S3_event_is_queued_as_one_notice_and_a_second_delivery_changes_nothing()
    {
        await using var host = await StartAsync();
        var two = S3().Replace("}}]}", "}},{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"markers\"},\"object\":{\"key\":\"done/load__20190312.done\",\"sequencer\":\"01\"}}}]}", StringComparison.Ordinal);

        using var first = await host.PostAsync("/api/events/s3", two);
        var accepted = await AcceptedAsync(first);
        Assert.Equal(2, accepted.GetProperty("queued").GetInt32());
        var id = accepted.GetProperty("request").GetInt64();
        Assert.Equal($"/api/requests/{id}", first.Headers.Location?.OriginalString);
        Assert.Equal("notice", (await host.GetJsonAsync($"/api/requests/{id}")).GetProperty("kind").GetString());
        Assert.Equal(["extract__20190312.done", "load__20190312.done"], await NoticesAsync(host));

        var before = host.Dump();
        using var again = await host.PostAsync("/api/events/s3", two);
        var duplicate = await AcceptedAsync(again);
        Assert.Equal(0, duplicate.GetProperty("queued").GetInt32());
        Assert.Equal(2, duplicate.GetProperty("duplicates").GetInt32());
        Assert.Equal(JsonValueKind.Null, duplicate.GetProperty("request").ValueKind);
        Assert.Equal(before, host.Dump());
    }

    [Fact]
    public async Task Test_events_removals_and_keys_outside_the_bucket_prefix_or_layout_are_counted_and_ignored()
    {
        await using var host = await StartAsync();
        var before = host.Dump();
        foreach (var body in new[]
        {
            """{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2019-03-13T02:00:00.000Z","Bucket":"markers","RequestId":"1","HostId":"2"}""",
            S3(bucket: "another-bucket"),
            S3(key: "elsewhere/extract__20190312.done"),
            S3(key: "done/.superseded/g1/extract__20190312.done"),
            S3(key: "done/nope__20190312.done"),
            S3(key: "done/extract__2019031205.done"),
            S3(key: "done/notes.txt"),
            S3().Replace("ObjectCreated:Put", "ObjectRemoved:Delete", StringComparison.Ordinal),
        })
        {
            using var response = await host.PostAsync("/api/events/s3", body);
            var accepted = await AcceptedAsync(response);
            Assert.Equal(0, accepted.GetProperty("queued").GetInt32());
            Assert.Equal(1, accepted.GetProperty("ignored").GetInt32());
            Assert.Single(accepted.GetProperty("reasons").EnumerateArray());
        }

        Assert.Equal(before, host.Dump());
        var metrics = await host.Http.GetStringAsync("/metrics");
        Assert.Matches("cascade_notifications_total\\{[^}]*outcome=\"ignored\",source=\"http\"\\} [0-9]+", metrics);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task A_signed_SNS_notification_is_queued_without_the_token_and_its_certificate_fetched_once(string version)
    {
        await using var host = await StartAsync(token: Token);
        using var first = await host.PostAsync("/api/events/s3", _sns.Notification(S3(), version: version), contentType: "text/plain");
        Assert.Equal(1, (await AcceptedAsync(first)).GetProperty("queued").GetInt32());

        using var second = await host.PostAsync("/api/events/s3", _sns.Notification(S3(key: "done/load__20190312.done"), version: version), contentType: "text/plain");
        Assert.Equal(1, (await AcceptedAsync(second)).GetProperty("queued").GetInt32());
        Assert.Equal(["extract__20190312.done", "load__20190312.done"], await NoticesAsync(host));
        Assert.Single(_sns.Requests, r => r.StartsWith("GET " + SnsAuthority.CertificatePath, StringComparison.Ordinal));
    }

    public static TheoryData<string, string> Tampered() => new()
    {
        { "message changed", "signature does not match" },
        { "topic changed", "signature does not match" },
        { "unsigned", "it is not signed" },
        { "version 3", "SignatureVersion '3' is not 1" },
        { "signature not base64", "its Signature is not base64" },
        { "certificate on another host", "not an SNS host" },
        { "certificate over http", "is not an https URL" },
        { "unlisted topic", "the topic is not in events.sns.topics" },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public async Task A_tampered_unsigned_or_foreign_SNS_message_is_refused_with_a_log_line_and_changes_nothing(string how, string reason)
    {
        await using var host = await StartAsync(token: Token);
        var signed = _sns.Notification(S3());
        var body = how switch
        {
            "message changed" => signed.Replace("extract__20190312", "extract__20190313", StringComparison.Ordinal),
            "topic changed" => _sns.Notification(S3(), topic: "arn:aws:sns:us-east-1:123456789012:other").Replace(":other", ":done", StringComparison.Ordinal),
            "unsigned" => _sns.Notification(S3(), sign: false),
            "version 3" => _sns.Notification(S3(), version: "3"),
            "signature not base64" => ReplaceSignature(signed, "!!!"),
            "certificate on another host" => _sns.Notification(S3(), certificateUrl: "https://sns.attacker.example/SimpleNotificationService-test.pem"),
            "certificate over http" => _sns.Notification(S3(), certificateUrl: _sns.CertificateUrl.Replace("https:", "http:", StringComparison.Ordinal)),
            _ => _sns.Notification(S3(), topic: "arn:aws:sns:us-east-1:123456789012:other"),
        };
        var before = host.Dump();

        using var response = await host.PostAsync("/api/events/s3", body, contentType: "text/plain");

        await ApiHost.AssertProblemAsync(response, 403, reason);
        Assert.Equal(before, host.Dump());
        Assert.Contains(host.Log.Lines, l => l.StartsWith("Warning: notification refused (POST /api/events/s3): SNS", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal) && l.EndsWith("nothing changed", StringComparison.Ordinal));
        if (how.StartsWith("certificate", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(_sns.Requests, r => r.Contains(".pem", StringComparison.Ordinal)); // nothing fetched from where the message pointed
        }
    }

    private static string ReplaceSignature(string envelope, string signature)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(envelope)!;
        node["Signature"] = signature;
        return node.ToJsonString();
    }

    [Fact]
    public async Task A_subscription_is_confirmed_only_for_a_listed_topic()
    {
        await using var host = await StartAsync(token: Token);
        var before = host.Dump();

        using var unlisted = await host.PostAsync("/api/events/s3", _sns.Confirmation(topic: "arn:aws:sns:us-east-1:123456789012:other"), contentType: "text/plain");
        await ApiHost.AssertProblemAsync(unlisted, 403, "topic arn:aws:sns:us-east-1:123456789012:other refused: the topic is not in events.sns.topics");
        using var elsewhere = await host.PostAsync("/api/events/s3", _sns.Confirmation(subscribeUrl: "https://evil.example/confirm"), contentType: "text/plain");
        await ApiHost.AssertProblemAsync(elsewhere, 403, "not an SNS host");
        Assert.DoesNotContain(_sns.Requests, r => r.StartsWith("GET /confirm", StringComparison.Ordinal));
        Assert.Equal(before, host.Dump());

        using var listed = await host.PostAsync("/api/events/s3", _sns.Confirmation(), contentType: "text/plain");
        Assert.Equal(SnsAuthority.Topic, (await AcceptedAsync(listed, 200)).GetProperty("confirmed").GetString());
        Assert.Single(_sns.Requests, r => r == $"GET /confirm?Action=ConfirmSubscription&TopicArn={SnsAuthority.Topic}&Token=2336412f37fb687f5d51e6e2425dacbba");
        Assert.Contains(host.Log.Lines, l => l.Contains($"confirmed the SNS subscription to topic {SnsAuthority.Topic}", StringComparison.Ordinal));
        Assert.Equal(before, host.Dump());
    }

    [Fact]
    public async Task With_a_token_an_unsigned_notification_needs_it_and_with_none_it_must_be_JSON()
    {
        await using (var host = await StartAsync(token: Token))
        {
            var before = host.Dump();
            using var missing = await host.PostAsync("/api/events/s3", S3());
            await ApiHost.AssertProblemAsync(missing, 401, "an S3 or EventBridge event is not signed");
            using var wrong = await host.PostAsync("/api/events/s3", S3(), token: "not-it");
            await ApiHost.AssertProblemAsync(wrong, 401, "Authorization: Bearer");
            Assert.Equal(before, host.Dump());
            using var right = await host.PostAsync("/api/events/s3", S3(), token: Token);
            Assert.Equal(1, (await AcceptedAsync(right)).GetProperty("queued").GetInt32());
        }

        await using (var host = await StartAsync(verify: false))
        {
            var before = host.Dump();
            using var plain = await host.PostAsync("/api/events/s3", S3(), contentType: "text/plain");
            await ApiHost.AssertProblemAsync(plain, 415, "must be sent as application/json");
            using var form = await host.PostAsync("/api/events/s3", S3(), contentType: "application/x-www-form-urlencoded");
            await ApiHost.AssertProblemAsync(form, 415, "send application/json");
            Assert.Equal(before, host.Dump());

            // With signature checks off an SNS message is as unsigned: JSON on a loopback server without a token.
            using var sns = await host.PostAsync("/api/events/s3", _sns.Notification(S3(), sign: false));
            Assert.Equal(1, (await AcceptedAsync(sns)).GetProperty("queued").GetInt32());
        }
    }

    [Fact]
    public async Task Hostile_bodies_are_refused_and_change_nothing()
    {
        await using var host = await StartAsync();
        var before = host.Dump();
        foreach (var (body, status, detail) in new[]
        {
            ("{\"Records\": 5}", 400, "Records must be a list"),
            (new string('[', 5000), 400, "not valid JSON"),
            ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": 1}}}]}", 400, "name must be a string, not a number"),
        })
        {
            using var response = await host.PostAsync("/api/events/s3", body);
            await ApiHost.AssertProblemAsync(response, status, detail);
        }

        using var invalid = new HttpRequestMessage(HttpMethod.Post, "/api/events/s3") { Content = new ByteArrayContent([0x7b, 0xff, 0xfe, 0x7d]) };
        invalid.Content.Headers.ContentType = new("application/json");
        await ApiHost.AssertProblemAsync(await host.Http.SendAsync(invalid), 400, "not UTF-8");

        // A body over the limit, chunked (no Content-Length to refuse it by): read up to the limit, then refused.
        var big = System.Text.Encoding.UTF8.GetBytes("{\"x\": \"" + new string('a', 1024 * 1024) + "\"}");
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/events/s3") { Content = new StreamContent(new MemoryStream(big)) };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        await ApiHost.AssertProblemAsync(await host.Http.SendAsync(chunked), 413, "1024 KiB");
        Assert.Equal(before, host.Dump());
    }

    [Fact]
    public async Task A_pipeline_with_markers_in_a_folder_takes_no_notifications()
    {
        await using var host = await ApiHost.StartAsync();
        var before = host.Dump();
        using var response = await host.PostAsync("/api/events/s3", S3());
        await ApiHost.AssertProblemAsync(response, 404, "markers are in a folder");
        Assert.Equal(before, host.Dump());
    }
}
