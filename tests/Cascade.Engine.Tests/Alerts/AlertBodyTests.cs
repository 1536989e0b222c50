using System.Globalization;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>
/// Spec §4: a timed-out or failed run raises one alert naming the run, the missing inputs and the
/// broken downstream jobs. Real scheduler, real processes, a real HTTP receiver on 127.0.0.1.
/// </summary>
public sealed class AlertBodyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_timed_out_fan_in_posts_exactly_one_slack_message_naming_the_run_the_missing_input_the_broken_downstream_and_the_why_command()
    {
        await using var receiver = HttpReceiver.Start();
        await using var p = TempPipeline.Create($$"""
            alerts:
              - slack: "{{receiver.BaseUrl}}/slack"
            jobs:
              a:
                run: external
              b:
                run: external
              join:
                after: [a, b]
                wait_timeout: 500ms
                run: { command: [sh, jobs/record.sh] }
              report:
                after: [join]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await using var s = await AlertedScheduler.StartAsync(p);

        await p.WriteMarkerAsync("a", "20190312");
        var alert = await s.FirstAlertAsync(Bound);
        await receiver.WaitForRequestsAsync(1, Bound);

        // The missing input arrives late: recorded on the run, but no second alert and the chain stays broken.
        await p.WriteMarkerAsync("b", "20190312");
        await TempPipeline.WaitUntilAsync(
            async () => (await p.RunAsync("join", "20190312"))!.Warnings.Any(w => w.Contains("late input b 20190312", StringComparison.Ordinal)),
            Bound,
            "the late marker of b to be recorded on join");
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Equal(AlertKind.TimedOut, alert.Kind);
        Assert.Single(s.Raised);
        Assert.Equal(1, s.Dispatcher.Sent);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/slack", request.RawPath);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(request.Body);
        var only = Assert.Single(doc.RootElement.EnumerateObject());
        Assert.Equal("text", only.Name);
        var text = only.Value.GetString()!;
        Assert.Contains("join 20190312 timed out", text, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(p.Dir), text, StringComparison.Ordinal);
        Assert.Contains("*Missing inputs:* b 20190312\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("a 20190312", text, StringComparison.Ordinal);
        Assert.Contains("*Broken downstream:* report (upstream_failed until replayed)", text, StringComparison.Ordinal);
        Assert.EndsWith("Run `cascade why join 20190312`", text, StringComparison.Ordinal);

        var join = await p.RunAsync("join", "20190312");
        Assert.Equal(RunState.TimedOut, join!.State);
        var report = await p.RunAsync("report", "20190312");
        Assert.Equal(RunState.UpstreamFailed, report!.State);
        Assert.Equal(0, report.Attempt);
        Assert.Equal(0, join.Attempt);
        Assert.Equal(0, s.Service.Counters.AttemptsStarted);
        Assert.False(p.FileExists("runs.log"), "a process ran below a timed-out input");
    }

    [Fact]
    public async Task A_job_that_always_fails_posts_exactly_one_webhook_document_with_event_failed_exit_code_3_and_attempt_2()
    {
        await using var receiver = HttpReceiver.Start();
        await using var p = TempPipeline.Create($$"""
            alerts:
              - webhook: {{receiver.BaseUrl}}/hook
            jobs:
              src:
                run: external
              broken:
                after: [src]
                retries: 1
                retry_backoff: 50ms
                run: { command: [sh, -c, 'exit 3'] }
              next:
                after: [broken]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await using var s = await AlertedScheduler.StartAsync(p);

        await p.WriteMarkerAsync("src", "20190312");
        var alert = await s.FirstAlertAsync(Bound);
        await receiver.WaitForRequestsAsync(1, Bound);
        await p.WaitForStateAsync("broken", "20190312", RunState.Failed);
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Single(s.Raised);
        Assert.Equal(1, s.Dispatcher.Sent);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hook", request.RawPath);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        Assert.Equal(
            ["version", "event", "pipeline", "job", "partition", "at", "title", "summary", "missing_inputs", "broken_downstream", "attempt", "exit_code", "why"],
            root.EnumerateObject().Select(prop => prop.Name));
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("failed", root.GetProperty("event").GetString());
        Assert.Equal(Path.GetFileName(p.Dir), root.GetProperty("pipeline").GetString());
        Assert.Equal("broken", root.GetProperty("job").GetString());
        Assert.Equal("20190312", root.GetProperty("partition").GetString());
        var at = DateTimeOffset.ParseExact(root.GetProperty("at").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.True((at - alert.At).Duration() < TimeSpan.FromMilliseconds(1), $"at {at:O} is not the alert's time {alert.At:O}");
        Assert.Equal("broken 20190312 failed", root.GetProperty("title").GetString());
        Assert.Contains("3", root.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Empty(root.GetProperty("missing_inputs").EnumerateArray());
        Assert.Equal(["next"], root.GetProperty("broken_downstream").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, root.GetProperty("attempt").GetInt32());
        Assert.Equal(3, root.GetProperty("exit_code").GetInt32());
        Assert.Equal("cascade why broken 20190312", root.GetProperty("why").GetString());

        var next = await p.RunAsync("next", "20190312");
        Assert.Equal(RunState.UpstreamFailed, next!.State);
        Assert.False(p.FileExists("runs.log"), "a process ran below a failed run");
    }

    [Fact]
    public async Task A_command_that_cannot_start_posts_one_failed_document_with_attempt_1_no_exit_code_and_the_reason()
    {
        await using var receiver = HttpReceiver.Start();
        await using var p = TempPipeline.Create($$"""
            alerts:
              - webhook: {{receiver.BaseUrl}}/hook
            jobs:
              src:
                run: external
              missing:
                after: [src]
                retries: 3
                run: { command: [./jobs/does-not-exist.sh] }
              next:
                after: [missing]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await using var s = await AlertedScheduler.StartAsync(p);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await receiver.WaitForRequestsAsync(1, Bound);
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        var request = Assert.Single(receiver.Requests);
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        Assert.Equal("failed", root.GetProperty("event").GetString());
        Assert.Equal("missing", root.GetProperty("job").GetString());
        Assert.Equal(1, root.GetProperty("attempt").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("exit_code").ValueKind);
        Assert.Contains("does-not-exist.sh", root.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(["next"], root.GetProperty("broken_downstream").EnumerateArray().Select(e => e.GetString()));
        Assert.False(p.FileExists("runs.log"));
    }
}
