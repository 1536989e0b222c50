using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary><c>events: { sqs: { queue_url, region?, endpoint?, wait_seconds?, visibility_timeout?, max_messages? } }</c>: typed settings, or errors with file:line:col.</summary>
public sealed partial class SqsSettingsTests
{
    [GeneratedRegex(@"<!-- pipeline: sqs -->\s*```yaml\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex DocsExample();

    private const string Bucket = "markers:\n  s3: { bucket: my-bucket }\n";
    private const string Jobs = "\njobs:\n  a:\n    run: external\n";

    private static SqsSettings? Load(string events, string markers = Bucket)
    {
        var result = PipelineLoader.Load(markers + events + Jobs, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!.Definition.Events.Sqs;
    }

    private static string Error(string events, string markers = Bucket)
    {
        var result = PipelineLoader.Load(markers + events + Jobs, "cascade.yaml");
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void An_aws_queue_url_gives_the_region_and_no_endpoint_and_the_defaults_are_a_20_second_poll_of_10()
    {
        var sqs = Load("events:\n  sqs: { queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/done }\n");

        Assert.Equal(new SqsSettings("https://sqs.eu-west-1.amazonaws.com/123456789012/done", "eu-west-1", null, 20, null, 10) { Location = new SourceLocation(4, 8) }, sqs);
    }

    [Fact]
    public void Every_setting_is_read_and_a_given_region_wins()
    {
        var sqs = Load("""
            events:
              sqs:
                queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/done
                region: eu-central-1
                wait_seconds: 5
                visibility_timeout: 2m
                max_messages: 1
            """);

        Assert.Equal(new SqsSettings("https://sqs.eu-west-1.amazonaws.com/123456789012/done", "eu-central-1", null, 5, TimeSpan.FromMinutes(2), 1) { Location = new SourceLocation(5, 5) }, sqs);
    }

    [Fact]
    public void A_queue_on_another_server_is_reached_at_its_own_address_unless_an_endpoint_is_given()
    {
        Assert.Equal("http://127.0.0.1:9324", Load("events:\n  sqs: { queue_url: http://127.0.0.1:9324/000000000000/done }\n")!.Endpoint);
        Assert.Null(Load("events:\n  sqs: { queue_url: http://127.0.0.1:9324/000000000000/done }\n")!.Region);
        Assert.Equal("http://127.0.0.1:4566", Load("events:\n  sqs: { queue_url: http://queue.local/000000000000/done, endpoint: http://127.0.0.1:4566 }\n")!.Endpoint);
        // A VPC endpoint or the legacy host of AWS is still AWS: no endpoint override.
        var legacy = Load("events:\n  sqs: { queue_url: https://us-west-2.queue.amazonaws.com/123456789012/done }\n")!;
        Assert.Equal(("us-west-2", (string?)null), (legacy.Region, legacy.Endpoint));
    }

    [Fact]
    public void Without_events_there_is_no_consumer()
    {
        Assert.Null(Load(string.Empty));
        Assert.Same(EventSettings.None, PipelineLoader.Load(Jobs, "cascade.yaml").Pipeline!.Definition.Events);
    }

    [Theory]
    [InlineData("events:\n  sqs: { region: us-east-1 }", "cascade.yaml:4:8: events.sqs needs 'queue_url' (the queue's URL, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/done)")]
    [InlineData("events:\n  sqs: { queue_url: \"ftp://x/1/q\" }", "cascade.yaml:4:21: events.sqs.queue_url 'ftp://x/1/q' is not a queue URL (http:// or https://, with the account and queue in the path: https://sqs.eu-west-1.amazonaws.com/123456789012/done)")]
    [InlineData("events:\n  sqs: { queue_url: \"https://sqs.us-east-1.amazonaws.com/\" }", "cascade.yaml:4:21: events.sqs.queue_url 'https://sqs.us-east-1.amazonaws.com/' is not a queue URL (http:// or https://, with the account and queue in the path: https://sqs.eu-west-1.amazonaws.com/123456789012/done)")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", endpoint: \"127.0.0.1:9324\" }", "cascade.yaml:4:55: events.sqs.endpoint '127.0.0.1:9324' is not an http:// or https:// URL (e.g. http://127.0.0.1:9324)")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", region: \"Europe 1\" }", "cascade.yaml:4:53: events.sqs.region 'Europe 1' is not a region name (e.g. us-east-1)")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", wait_seconds: 0 }", "cascade.yaml:4:59: events.sqs.wait_seconds must be a whole number from 1 to 20 seconds (SQS long-polls at most 20 s), not '0'")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", wait_seconds: 21 }", "cascade.yaml:4:59: events.sqs.wait_seconds must be a whole number from 1 to 20 seconds (SQS long-polls at most 20 s), not '21'")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", max_messages: 11 }", "cascade.yaml:4:59: events.sqs.max_messages must be a whole number from 1 to 10 messages (SQS hands out at most 10 at once), not '11'")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", visibility_timeout: 13h }", "cascade.yaml:4:65: events.sqs.visibility_timeout '13h' is not a duration of whole seconds from 1s to 12h (e.g. 60s, 5m)")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", visibility_timeout: 1500ms }", "cascade.yaml:4:65: events.sqs.visibility_timeout '1500ms' is not a duration of whole seconds from 1s to 12h (e.g. 60s, 5m)")]
    [InlineData("events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", secret_key: x }", "cascade.yaml:4:45: unknown key 'secret_key' in events.sqs (known: queue_url, region, endpoint, wait_seconds, visibility_timeout, max_messages)")]
    [InlineData("events:\n  sqs: https://sqs.us-east-1.amazonaws.com/1/q", "cascade.yaml:4:8: events.sqs must be a mapping: { queue_url: https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE, region: …, wait_seconds: 20, visibility_timeout: 60s, max_messages: 10 }")]
    [InlineData("events: [sqs]", "cascade.yaml:3:9: 'events' must be a mapping, e.g. events: { sns: { topics: [arn:aws:sns:us-east-1:123456789012:done] } }")]
    [InlineData("events:\n  kafka: {}", "cascade.yaml:4:3: unknown key 'kafka' in events (known: sns, sqs)")]
    public void A_bad_sqs_setting_is_one_error_at_its_line(string events, string error)
    {
        Assert.Equal(error, Error(events));
    }

    [Fact]
    public void A_queue_with_markers_in_a_folder_is_an_error_at_the_queue()
    {
        Assert.Equal(
            "cascade.yaml:4:3: 'events' needs markers in a bucket (markers.s3): notifications come from S3; a marker folder is watched by itself",
            Error("events:\n  sqs: { queue_url: https://sqs.us-east-1.amazonaws.com/1/q }\n", markers: "markers:\n  folder: ./m\n"));
        Assert.StartsWith(
            "cascade.yaml:2:3: 'events' needs markers in a bucket",
            Error("events:\n  sqs: { queue_url: https://sqs.us-east-1.amazonaws.com/1/q }\n", markers: string.Empty),
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_cli_sees_a_bad_queue_setting_as_a_validation_error_and_loads_nothing()
    {
        var result = PipelineLoader.Load(Bucket + "events:\n  sqs: { queue_url: \"http://127.0.0.1/1/q\", max_messages: 0 }\n" + Jobs, "cascade.yaml");

        Assert.Null(result.Pipeline);
        Assert.Single(result.Errors);
    }

    [Fact]
    public void The_example_of_docs_cloud_md_loads_with_its_queue()
    {
        var page = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "cloud.md"));
        var yaml = DocsExample().Match(page).Groups["yaml"].Value;
        Assert.NotEmpty(yaml);

        var result = PipelineLoader.Load(yaml, "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(
            new SqsSettings("https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-done", "eu-west-1", null, 20, TimeSpan.FromSeconds(60), 10),
            result.Pipeline!.Definition.Events.Sqs! with { Location = SourceLocation.None });
    }
}
