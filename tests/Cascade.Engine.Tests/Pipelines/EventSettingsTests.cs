using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary><c>events: { sns: { topics, verify_signatures, certificate_hosts } }</c>: typed settings, or errors with file:line:col.</summary>
public sealed class EventSettingsTests
{
    private const string Bucket = "markers:\n  s3: { bucket: markers }\n";
    private const string Jobs = "\njobs:\n  a:\n    run: external\n";

    private static EventSettings Load(string events)
    {
        var result = PipelineLoader.Load(Bucket + events + Jobs, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!.Definition.Events;
    }

    private static string Error(string text)
    {
        var result = PipelineLoader.Load(text + Jobs, "cascade.yaml");
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void Topics_are_listed_signatures_verified_and_certificates_from_SNS_hosts_by_default()
    {
        var sns = Load("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done, arn:aws-cn:sns:cn-north-1:123456789012:done.fifo] }").Sns!;
        Assert.Equal(["arn:aws:sns:us-east-1:123456789012:done", "arn:aws-cn:sns:cn-north-1:123456789012:done.fifo"], sns.Topics);
        Assert.True(sns.VerifySignatures);
        Assert.Equal(["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"], sns.CertificateHosts);
    }

    [Fact]
    public void Signature_checks_can_be_turned_off_and_certificate_hosts_given()
    {
        var sns = Load("events:\n  sns:\n    topics: arn:aws:sns:us-gov-west-1:123456789012:done\n    verify_signatures: false\n    certificate_hosts: [127.0.0.1, sns.*.example.com]").Sns!;
        Assert.False(sns.VerifySignatures);
        Assert.Equal(["127.0.0.1", "sns.*.example.com"], sns.CertificateHosts);
    }

    [Fact]
    public void No_events_is_none()
    {
        Assert.Same(EventSettings.None, Load(string.Empty));
        Assert.Null(Load("events: {}").Sns);
    }

    [Theory]
    [InlineData("events:\n  sns: { topics: [arn:aws:sns:us-east-1:1:x] }", "cascade.yaml:4:19: events.sns.topics: 'arn:aws:sns:us-east-1:1:x' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME, e.g. arn:aws:sns:us-east-1:123456789012:done)")]
    [InlineData("events:\n  sns: { topics: [] }", "cascade.yaml:4:18: events.sns.topics is empty: list the ARNs of the SNS topics whose messages are accepted")]
    [InlineData("events:\n  sns: { verify_signatures: true }", "cascade.yaml:4:8: events.sns needs 'topics': the ARNs of the SNS topics whose messages are accepted")]
    [InlineData("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done], verify_signatures: perhaps }", "cascade.yaml:4:80: events.sns.verify_signatures must be true or false, not 'perhaps'")]
    [InlineData("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done], certificate_hosts: [\"*.*\"] }", "cascade.yaml:4:81: events.sns.certificate_hosts: '*.*' is not a host name (lower case, e.g. sns.*.amazonaws.com, where * is one label, or 127.0.0.1 for a test)")]
    [InlineData("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done], certificate_hosts: [\"https://x.com\"] }", "cascade.yaml:4:81: events.sns.certificate_hosts: 'https://x.com' is not a host name (lower case, e.g. sns.*.amazonaws.com, where * is one label, or 127.0.0.1 for a test)")]
    [InlineData("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done], secret: x }", "cascade.yaml:4:61: unknown key 'secret' in events.sns (known: topics, verify_signatures, certificate_hosts)")]
    [InlineData("events:\n  kafka: {}", "cascade.yaml:4:3: unknown key 'kafka' in events (known: sns, sqs)")]
    [InlineData("events: [sns]", "cascade.yaml:3:9: 'events' must be a mapping, e.g. events: { sns: { topics: [arn:aws:sns:us-east-1:123456789012:done] } }")]
    [InlineData("events:\n  sns: arn", "cascade.yaml:4:8: events.sns must be a mapping: { topics: [arn:aws:sns:REGION:ACCOUNT:NAME], verify_signatures: true }")]
    public void A_bad_events_setting_is_one_error_at_its_line(string events, string error)
    {
        Assert.Equal(error, Error(Bucket + events));
    }

    [Fact]
    public void Events_over_a_marker_folder_are_an_error()
    {
        Assert.Equal(
            "cascade.yaml:2:3: 'events' needs markers in a bucket (markers.s3): notifications come from S3; a marker folder is watched by itself",
            Error("events:\n  sns: { topics: [arn:aws:sns:us-east-1:123456789012:done] }"));
    }
}
