using System.Globalization;
using System.Text;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Alerts.Slack;
using Cascade.Engine.Alerts.Webhook;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>Issue 8, item 18: simple receivers read a chunked body without a length as empty.</summary>
public sealed class AlertContentLengthTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static Alert SampleAlert() => new(
        AlertKind.Failed,
        new RunKey("revenue", Partition.Parse("20190312")),
        new DateTimeOffset(2019, 3, 13, 4, 0, 0, TimeSpan.Zero),
        "revenue 20190312 failed — ünïcode",
        [],
        ["bi_import 20190312"],
        2,
        3);

    public static TheoryData<string> Kinds => ["slack", "webhook"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Regression_8_18_an_alert_is_sent_with_a_content_length_and_not_chunked(string kind)
    {
        await using var receiver = HttpReceiver.Start();
        using var http = new HttpClient();
        var url = new Uri($"{receiver.BaseUrl}/{kind}");
        IAlertSink sink = kind == "slack" ? new SlackAlertSink(http, url, "demo") : new WebhookAlertSink(http, url, "demo");

        await sink.SendAsync(SampleAlert(), CancellationToken.None);
        await receiver.WaitForRequestsAsync(1, Bound);

        var request = Assert.Single(receiver.Requests);
        Assert.False(request.Headers.ContainsKey("Transfer-Encoding"), $"sent chunked: {string.Join(", ", request.Headers)}");
        Assert.True(request.Headers.TryGetValue("Content-Length", out var length), $"no Content-Length: {string.Join(", ", request.Headers)}");
        Assert.NotEmpty(request.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(request.Body), int.Parse(length, CultureInfo.InvariantCulture));
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
    }
}
