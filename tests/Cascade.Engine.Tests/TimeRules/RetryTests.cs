using Cascade.Core.Scheduling;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §3–4: a failed attempt is retried after <c>retry_backoff</c>, doubling each time and
/// measured from the failed attempt's exit; after the last attempt the run is <c>failed</c>, the
/// chain below it is broken and one alert names the broken jobs.
/// </summary>
public sealed class RetryTests
{
    private const string Chain = """
        defaults:
          retries: 2
          retry_backoff: 1m
        jobs:
          extract:
            run: { command: [extract, "{date}"] }
          clean:
            after: [extract]
            run: { command: [clean, "{date}"] }
          load:
            after: [clean]
            retries: 0
            run: { command: [load, "{date}"] }
        """;

    /// <summary>extract 20190312 fails all three attempts (exits at 03:05, 03:10 and 03:20).</summary>
    private static TimeHarness ExhaustedRetries(out IReadOnlyList<SchedulerEffect> onLastExit)
    {
        var h = new TimeHarness(Chain);
        h.Started(Utc("2019-03-13T03:00"));
        h.Trigger("extract", "20190312", Utc("2019-03-13T03:00"));
        Assert.Empty(AlertsIn(h.Exit("extract", "20190312", 1, Utc("2019-03-13T03:05"))));
        h.Time(Utc("2019-03-13T03:06"));
        Assert.Empty(AlertsIn(h.Exit("extract", "20190312", 1, Utc("2019-03-13T03:10"))));
        h.Time(Utc("2019-03-13T03:12"));
        onLastExit = h.Exit("extract", "20190312", 1, Utc("2019-03-13T03:20"));
        return h;
    }

    [Fact]
    public void When_retries_are_exhausted_the_run_fails_breaks_the_chain_and_sends_one_alert_naming_the_broken_jobs()
    {
        var h = ExhaustedRetries(out var effects);

        var run = h.Run("extract", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(3, run.Failures);
        Assert.Equal(3, h.Starts.Count);
        Assert.Equal(RunState.UpstreamFailed, h.Run("clean", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("load", "20190312").State);
        var alert = Assert.Single(AlertsIn(effects));
        Assert.Equal(AlertKind.Failed, alert.Kind);
        Assert.Equal(Key("extract", "20190312"), alert.Key);
        Assert.Equal(["clean", "load"], alert.BrokenDownstream);
        Assert.Equal(3, alert.Attempt);
        Assert.Equal(1, alert.ExitCode);
        Assert.Single(h.Alerts);
        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void Backoff_is_the_base_then_twice_then_four_times_measured_from_each_exit()
    {
        var h = new TimeHarness("""
            jobs:
              flaky:
                retries: 3
                retry_backoff: 30s
                run: { command: [flaky] }
            """);
        h.Started(Utc("2019-03-13T03:00"));
        h.Trigger("flaky", "20190312", Utc("2019-03-13T03:00"));
        var delays = new List<TimeSpan>();

        foreach (var exit in new[] { Utc("2019-03-13T03:07"), Utc("2019-03-13T03:20"), Utc("2019-03-13T03:41:10") })
        {
            h.Exit("flaky", "20190312", 1, exit);
            var due = h.Run("flaky", "20190312").NextRetryAt!.Value;
            delays.Add(due - exit);
            Assert.Equal(RunState.Queued, h.Run("flaky", "20190312").State);
            Assert.Equal(due, h.Scheduler.NextWakeAt);

            AssertNothingHappened(h.Time(due.AddTicks(-1)));
            Assert.Equal(["flaky 20190312"], StartedIn(h.Time(due)));
        }

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)], delays);
        Assert.Equal([1, 2, 3, 4], h.Starts.Select(s => s.Attempt));
        h.Exit("flaky", "20190312", 1, Utc("2019-03-13T04:00"));
        Assert.Equal(RunState.Failed, h.Run("flaky", "20190312").State);
    }

    [Fact]
    public void Triggering_a_failed_run_requeues_it_and_mends_its_upstream_failed_downstream_back_to_waiting()
    {
        var h = ExhaustedRetries(out _);

        var onTrigger = h.Trigger("extract", "20190312", Utc("2019-03-13T04:00"));

        var run = h.Run("extract", "20190312");
        Assert.Equal(RunState.Running, run.State);
        Assert.Equal("trigger", run.Cause);
        Assert.Equal(0, run.Failures);
        Assert.Equal(["extract 20190312"], StartedIn(onTrigger));
        Assert.Equal(RunState.Waiting, h.Run("clean", "20190312").State);
        Assert.Equal(RunState.Waiting, h.Run("load", "20190312").State);
        Assert.Empty(AlertsIn(onTrigger));

        Assert.Equal(["clean 20190312"], StartedIn(h.Exit("extract", "20190312", 0, Utc("2019-03-13T04:10"))));
        Assert.Equal(["load 20190312"], StartedIn(h.Exit("clean", "20190312", 0, Utc("2019-03-13T04:20"))));
    }

    [Fact]
    public void A_retried_run_that_fails_again_after_a_trigger_gets_its_full_retries_again()
    {
        var h = ExhaustedRetries(out _);
        h.Trigger("extract", "20190312", Utc("2019-03-13T04:00"));

        h.Exit("extract", "20190312", 1, Utc("2019-03-13T04:05"));

        var run = h.Run("extract", "20190312");
        Assert.Equal(RunState.Queued, run.State);
        Assert.Equal(Utc("2019-03-13T04:06"), run.NextRetryAt);
        Assert.Equal(RunState.Waiting, h.Run("clean", "20190312").State);
    }
}
