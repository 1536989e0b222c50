using System.Net;
using Cascade.Engine.Alerts;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>
/// Alert URLs take secrets from the environment (<c>${NAME}</c>); logs and errors show a URL only
/// as scheme://host:port/…, and a missing variable is named, never a value.
/// </summary>
public sealed class AlertSecretTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private static string NewSecret() => "s3cr3t" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_secret_from_the_environment_reaches_the_receiver_but_never_a_log_line_when_delivery_fails()
    {
        var secret = NewSecret();
        await using var failing = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.InternalServerError, TimeSpan.Zero));
        await using var slow = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
        var down = HttpReceiver.DownUrl("/hook/${CASCADE_TEST_SECRET}");
        await using var p = TempPipeline.Create($$"""
            alerts:
              - webhook: {{failing.BaseUrl}}/hook/${CASCADE_TEST_SECRET}
              - slack: {{slow.BaseUrl}}/hook/${CASCADE_TEST_SECRET}
              - webhook: {{down}}
            jobs:
              src:
                run: external
              broken:
                after: [src]
                retries: 0
                run: { command: [sh, -c, 'exit 3'] }
            """);
        var logger = new CapturingLogger();
        var delivery = new AlertDeliveryOptions { Retries = 1, FirstRetryDelay = TimeSpan.FromMilliseconds(20), AttemptTimeout = TimeSpan.FromSeconds(1) };
        await using var s = await AlertedScheduler.StartAsync(p, delivery, name => name == "CASCADE_TEST_SECRET" ? secret : null, logger);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await TempPipeline.WaitUntilAsync(() => Task.FromResult(s.Dispatcher.Failed == 3), Bound, "all three deliveries to be given up");
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        // Expansion worked: the receivers saw the secret in the path.
        Assert.NotEmpty(failing.Requests);
        Assert.All(failing.Requests, r => Assert.Equal($"/hook/{secret}", r.RawPath));
        Assert.NotEmpty(slow.Requests);
        Assert.All(slow.Requests, r => Assert.Equal($"/hook/{secret}", r.RawPath));

        // Every failure was logged, with the redacted destination and the kind of failure.
        var lines = logger.Lines;
        Assert.Contains(lines, l => l.Contains("not delivered", StringComparison.Ordinal) && l.Contains($"webhook http://127.0.0.1:{failing.Port}/…", StringComparison.Ordinal) && l.Contains("HTTP 500", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("not delivered", StringComparison.Ordinal) && l.Contains($"slack http://127.0.0.1:{slow.Port}/…", StringComparison.Ordinal) && l.Contains("timed out", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("not delivered", StringComparison.Ordinal) && l.Contains("connection failed", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain(secret, l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain("/hook", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_sink_describes_its_destination_without_the_secret()
    {
        var secret = NewSecret();
        await using var pipeline = TempPipeline.Create("""
            alerts:
              - slack: https://hooks.example.test/services/${CASCADE_TEST_SECRET}
              - webhook: http://127.0.0.1:9/hook?token=${CASCADE_TEST_SECRET}
            jobs:
              a:
                run: external
            """);
        using var http = new HttpClient();

        var sinks = AlertSinks.Create(pipeline.Pipeline, http, name => name == "CASCADE_TEST_SECRET" ? secret : null);

        Assert.Equal(["slack https://hooks.example.test/…", "webhook http://127.0.0.1:9/…"], sinks.Select(x => x.Describe));
        Assert.All(sinks, x => Assert.DoesNotContain(secret, x.Describe, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook/SECRETPATH", "http://127.0.0.1:8080/…")]
    [InlineData("https://hooks.slack.com/services/T000/B000/SECRETPATH", "https://hooks.slack.com/…")]
    [InlineData("http://user:SECRETPATH@127.0.0.1:9999/x", "http://127.0.0.1:9999/…")]
    [InlineData("http://127.0.0.1/hook?token=SECRETPATH#SECRETPATH", "http://127.0.0.1/…")]
    public void Redact_keeps_scheme_host_and_port_and_never_the_path_query_or_user_info(string url, string expected)
    {
        var redacted = AlertUrl.Redact(new Uri(url));

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("SECRETPATH", redacted, StringComparison.Ordinal);
        Assert.EndsWith("/…", redacted, StringComparison.Ordinal);
        Assert.Equal(1, redacted.Count(c => c == '/') - 2);
    }

    [Fact]
    public void An_unset_variable_fails_expansion_naming_the_variable_but_no_value()
    {
        var secret = NewSecret();
        var env = new Dictionary<string, string?> { ["CASCADE_TEST_TOKEN"] = secret, ["CASCADE_TEST_EMPTY"] = string.Empty };

        var ok = AlertUrl.TryExpand("http://127.0.0.1:9/${CASCADE_TEST_TOKEN}/${CASCADE_TEST_MISSING}", name => env.GetValueOrDefault(name), out var uri, out var problem);

        Assert.False(ok);
        Assert.Null(uri);
        Assert.Contains("CASCADE_TEST_MISSING", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, problem!, StringComparison.Ordinal);

        var empty = AlertUrl.TryExpand("http://127.0.0.1:9/${CASCADE_TEST_EMPTY}", name => env.GetValueOrDefault(name), out _, out var emptyProblem);
        Assert.False(empty);
        Assert.Contains("CASCADE_TEST_EMPTY", emptyProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_variable_that_expands_to_a_non_http_url_fails_without_showing_the_value()
    {
        var secret = NewSecret();

        var ok = AlertUrl.TryExpand("${CASCADE_TEST_URL}", name => name == "CASCADE_TEST_URL" ? $"ftp://{secret}.example.test/x" : null, out var uri, out var problem);

        Assert.False(ok);
        Assert.Null(uri);
        Assert.NotNull(problem);
        Assert.DoesNotContain(secret, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Building_the_sinks_with_an_unset_variable_throws_an_error_naming_the_file_and_the_variable_but_no_value()
    {
        var secret = NewSecret();
        await using var pipeline = TempPipeline.Create("""
            alerts:
              - webhook: http://127.0.0.1:9/${CASCADE_TEST_TOKEN}/${CASCADE_TEST_MISSING}
            jobs:
              a:
                run: external
            """);
        using var http = new HttpClient();

        var e = Assert.Throws<InvalidOperationException>(() => AlertSinks.Create(pipeline.Pipeline, http, name => name == "CASCADE_TEST_TOKEN" ? secret : null));

        Assert.Contains("cascade.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains("CASCADE_TEST_MISSING", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
    }
}
