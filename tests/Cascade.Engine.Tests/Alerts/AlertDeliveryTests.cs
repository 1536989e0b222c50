using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>
/// Alerts go out in the background: a receiver that is down, slow or failing never holds up the
/// scheduler, and transient failures are retried until the alert is delivered.
/// </summary>
public sealed class AlertDeliveryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    /// <summary>"broken" fails at once (one alert); "other" is an independent chain fed later.</summary>
    private static string TwoChains(string alertUrl) => $$"""
        alerts:
          - webhook: {{alertUrl}}
        jobs:
          src:
            run: external
          broken:
            after: [src]
            retries: 0
            run: { command: [sh, -c, 'exit 3'] }
          other_src:
            run: external
          other:
            after: [other_src]
            run: { command: [sh, jobs/record.sh] }
        """;

    [Fact]
    public async Task A_receiver_that_is_down_does_not_stall_the_scheduler_while_the_alert_is_being_retried()
    {
        await using var p = TempPipeline.Create(TwoChains(HttpReceiver.DownUrl("/hook")), ("jobs/record.sh", Scripts.Record));

        // Retrying for about 0.5 + 1 + 2 + 4 + 8 s: far longer than the other chain may take.
        var delivery = new AlertDeliveryOptions { Retries = 5, FirstRetryDelay = TimeSpan.FromMilliseconds(500), AttemptTimeout = TimeSpan.FromSeconds(2) };
        await using var s = await AlertedScheduler.StartAsync(p, delivery);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);

        var clock = Stopwatch.StartNew();
        await p.WriteMarkerAsync("other_src", "20190312");
        await p.WaitForStateAsync("other", "20190312", RunState.Succeeded, seconds: 5);
        var took = clock.Elapsed;

        Assert.Equal("other 20190312", p.ReadFile("runs.log").Trim());
        Assert.True(took < TimeSpan.FromSeconds(5), $"the other chain took {took.TotalSeconds:0.0}s");
        Assert.Equal(0, s.Dispatcher.Sent);
        Assert.Equal(0, s.Dispatcher.Failed);

        clock.Restart();
        await s.StopAsync(TimeSpan.FromSeconds(5));
        await s.Dispatcher.DrainAsync(TimeSpan.FromMilliseconds(200), TimeProvider.System).WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed.TotalSeconds:0.0}s");
        Assert.Equal(0, s.Dispatcher.Sent);
        Assert.Equal(RunState.Failed, (await p.RunAsync("broken", "20190312"))!.State);
    }

    [Fact]
    public async Task A_receiver_that_answers_after_30_seconds_does_not_stall_the_scheduler_and_the_scheduler_still_stops_at_once()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
        await using var p = TempPipeline.Create(TwoChains($"{receiver.BaseUrl}/hook"), ("jobs/record.sh", Scripts.Record));
        var delivery = new AlertDeliveryOptions { Retries = 1, FirstRetryDelay = TimeSpan.FromSeconds(1), AttemptTimeout = TimeSpan.FromSeconds(30) };
        await using var s = await AlertedScheduler.StartAsync(p, delivery);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await receiver.WaitForRequestsAsync(1, Bound); // the delivery is now blocked on the slow answer

        var clock = Stopwatch.StartNew();
        await p.WriteMarkerAsync("other_src", "20190312");
        await p.WaitForStateAsync("other", "20190312", RunState.Succeeded, seconds: 5);
        var took = clock.Elapsed;

        Assert.Equal("other 20190312", p.ReadFile("runs.log").Trim());
        Assert.True(took < TimeSpan.FromSeconds(5), $"the other chain took {took.TotalSeconds:0.0}s");
        Assert.Equal(0, s.Dispatcher.Sent);
        Assert.Equal(0, s.Dispatcher.Failed);

        // Stopping like `cascade run` does: stop the loop, then give queued alerts a short grace.
        clock.Restart();
        await s.StopAsync(TimeSpan.FromSeconds(5));
        await s.Dispatcher.DrainAsync(TimeSpan.FromMilliseconds(300), TimeProvider.System).WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed.TotalSeconds:0.0}s");
        Assert.Equal(0, s.Dispatcher.Sent);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_with_503_then_succeeds_gets_3_requests_and_the_alert_counts_as_sent()
    {
        await using var receiver = HttpReceiver.Start(n => n <= 2 ? new ReceiverAnswer(HttpStatusCode.ServiceUnavailable, TimeSpan.Zero) : ReceiverAnswer.Ok);
        await using var p = TempPipeline.Create(TwoChains($"{receiver.BaseUrl}/hook"), ("jobs/record.sh", Scripts.Record));
        var delivery = new AlertDeliveryOptions { Retries = 3, FirstRetryDelay = TimeSpan.FromMilliseconds(20), AttemptTimeout = TimeSpan.FromSeconds(5) };
        await using var s = await AlertedScheduler.StartAsync(p, delivery);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await TempPipeline.WaitUntilAsync(() => Task.FromResult(s.Dispatcher.Sent + s.Dispatcher.Failed > 0), Bound, "the alert to be delivered or given up");
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Equal(1, s.Dispatcher.Sent);
        Assert.Equal(0, s.Dispatcher.Failed);
        var requests = receiver.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.All(requests, r => Assert.Equal("/hook", r.RawPath));
        Assert.Single(s.Raised);
    }

    [Fact]
    public async Task A_receiver_that_always_fails_gets_retries_plus_one_requests_and_the_alert_counts_as_failed()
    {
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.BadGateway, TimeSpan.Zero));
        await using var p = TempPipeline.Create(TwoChains($"{receiver.BaseUrl}/hook"), ("jobs/record.sh", Scripts.Record));
        var delivery = new AlertDeliveryOptions { Retries = 2, FirstRetryDelay = TimeSpan.FromMilliseconds(20), AttemptTimeout = TimeSpan.FromSeconds(5) };
        await using var s = await AlertedScheduler.StartAsync(p, delivery);

        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await TempPipeline.WaitUntilAsync(() => Task.FromResult(s.Dispatcher.Failed > 0), Bound, "the alert to be given up");
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Equal(0, s.Dispatcher.Sent);
        Assert.Equal(1, s.Dispatcher.Failed);
        Assert.Equal(3, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_restarted_scheduler_does_not_alert_again_for_a_run_that_already_timed_out()
    {
        await using var receiver = HttpReceiver.Start();
        await using var p = TempPipeline.Create($$"""
            alerts:
              - webhook: {{receiver.BaseUrl}}/hook
            jobs:
              a:
                run: external
              b:
                run: external
              join:
                after: [a, b]
                wait_timeout: 500ms
                run: { command: [sh, jobs/record.sh] }
              other_src:
                run: external
              other:
                after: [other_src]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await using (var first = await AlertedScheduler.StartAsync(p))
        {
            await p.WriteMarkerAsync("a", "20190312");
            await first.FirstAlertAsync(Bound);
            await first.StopAsync(Bound);
            await first.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
            Assert.Equal(1, first.Dispatcher.Sent);
        }

        await using var second = await AlertedScheduler.StartAsync(p);
        await p.WriteMarkerAsync("other_src", "20190312");
        await p.WaitForStateAsync("other", "20190312", RunState.Succeeded);
        await second.StopAsync(Bound);
        await second.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Empty(second.Raised);
        Assert.Single(receiver.Requests);
        Assert.Equal(RunState.TimedOut, (await p.RunAsync("join", "20190312"))!.State);
    }

    [Fact]
    public async Task A_deadline_that_passed_while_the_scheduler_was_down_alerts_exactly_once_when_it_starts_again()
    {
        await using var receiver = HttpReceiver.Start();
        await using var p = TempPipeline.Create($$"""
            alerts:
              - webhook: {{receiver.BaseUrl}}/hook
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
        await using (var first = await AlertedScheduler.StartAsync(p))
        {
            await p.WriteMarkerAsync("a", "20190312");
            await p.WaitForStateAsync("join", "20190312", RunState.Waiting);
            await first.StopAsync(Bound);
            Assert.Empty(first.Raised);
        }

        var deadline = (await p.RunAsync("join", "20190312"))!.WaitDeadline!.Value;
        await TempPipeline.WaitUntilAsync(() => Task.FromResult(TimeProvider.System.GetUtcNow() > deadline), Bound, "the wait deadline to pass");

        await using var second = await AlertedScheduler.StartAsync(p);
        var alert = await second.FirstAlertAsync(Bound);
        await receiver.WaitForRequestsAsync(1, Bound);
        await second.StopAsync(Bound);
        await second.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Equal(AlertKind.TimedOut, alert.Kind);
        Assert.Single(second.Raised);
        var request = Assert.Single(receiver.Requests);
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        Assert.Equal("timed_out", root.GetProperty("event").GetString());
        Assert.Equal("join", root.GetProperty("job").GetString());
        Assert.Equal("join 20190312 timed out", root.GetProperty("title").GetString());
        Assert.Contains("b 20190312", root.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(["b 20190312"], root.GetProperty("missing_inputs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["report"], root.GetProperty("broken_downstream").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, root.GetProperty("attempt").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("exit_code").ValueKind);
        Assert.Equal("cascade why join 20190312", root.GetProperty("why").GetString());
        Assert.Equal(RunState.UpstreamFailed, (await p.RunAsync("report", "20190312"))!.State);
        Assert.False(p.FileExists("runs.log"));
    }

    [Fact]
    public async Task A_dispatcher_with_Retries_0_tries_each_alert_once_and_counts_it_failed()
    {
        // Regression: Polly's retry strategy refuses MaxRetryAttempts = 0, so the dispatcher used to
        // throw from its constructor for "one attempt, no retry".
        await using var receiver = HttpReceiver.Start(_ => new ReceiverAnswer(HttpStatusCode.ServiceUnavailable, TimeSpan.Zero));
        await using var p = TempPipeline.Create(TwoChains($"{receiver.BaseUrl}/hook"), ("jobs/record.sh", Scripts.Record));
        var delivery = new AlertDeliveryOptions { Retries = 0, AttemptTimeout = TimeSpan.FromSeconds(5) };

        await using var s = await AlertedScheduler.StartAsync(p, delivery);
        await p.WriteMarkerAsync("src", "20190312");
        await s.FirstAlertAsync(Bound);
        await TempPipeline.WaitUntilAsync(() => Task.FromResult(s.Dispatcher.Failed > 0), Bound, "the alert to be given up");
        await s.StopAsync(Bound);
        await s.Dispatcher.DrainAsync(TimeSpan.FromSeconds(5), TimeProvider.System);

        Assert.Equal(1, s.Dispatcher.Failed);
        Assert.Single(receiver.Requests);
    }
}
