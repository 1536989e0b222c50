using Cascade.Core.Scheduling;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §4: a run waits for its remaining inputs at most <c>wait_timeout</c> from its first
/// same-partition input; at the deadline (not before) it times out and breaks its downstream.
/// </summary>
public sealed class WaitDeadlineTests
{
    private const string FanIn = """
        defaults:
          wait_timeout: 2h
        jobs:
          a: { run: external }
          b: { run: external }
          c:
            after: [a, b]
            run: { command: [c, "{date}"] }
          d:
            after: [c]
            run: { command: [d, "{date}"] }
        """;

    private static TimeHarness FirstInputAtThree()
    {
        var h = new TimeHarness(FanIn);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T03:00"));
        return h;
    }

    [Fact]
    public void The_wait_deadline_is_the_first_same_partition_input_plus_the_default_wait_timeout()
    {
        var h = FirstInputAtThree();

        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.Waiting, run.State);
        Assert.Equal(Utc("2019-03-13T05:00"), run.WaitDeadline);
        Assert.Equal(Utc("2019-03-13T05:00"), h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void One_tick_before_the_deadline_the_run_is_still_waiting()
    {
        var h = FirstInputAtThree();

        var effects = h.Time(Utc("2019-03-13T05:00").AddTicks(-1));

        AssertNothingHappened(effects);
        Assert.Equal(RunState.Waiting, h.Run("c", "20190312").State);
        Assert.Null(h.Find("d", "20190312"));
    }

    [Fact]
    public void At_the_deadline_the_run_times_out_breaks_its_downstream_and_sends_one_alert()
    {
        var h = FirstInputAtThree();
        h.Time(Utc("2019-03-13T05:00").AddTicks(-1));

        var effects = h.Time(Utc("2019-03-13T05:00"));

        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.TimedOut, run.State);
        Assert.Equal(Utc("2019-03-13T05:00"), run.FinishedAt);
        Assert.Contains("b 20190312", run.Reason, StringComparison.Ordinal);
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
        var alert = Assert.Single(AlertsIn(effects));
        Assert.Equal(AlertKind.TimedOut, alert.Kind);
        Assert.Equal(Key("c", "20190312"), alert.Key);
        Assert.Equal(["b 20190312"], alert.MissingInputs);
        Assert.Equal(["d"], alert.BrokenDownstream);
        Assert.Empty(h.Starts);
        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void A_time_input_long_after_the_deadline_times_out_once_and_later_ones_do_nothing()
    {
        var h = FirstInputAtThree();

        var effects = h.Time(Utc("2019-03-14T12:00"));
        var later = h.Time(Utc("2019-03-15T12:00"));

        Assert.Single(AlertsIn(effects));
        AssertNothingHappened(later);
        Assert.Single(h.Alerts);
    }

    [Fact]
    public void A_job_wait_timeout_overrides_the_default()
    {
        var h = new TimeHarness("""
            defaults:
              wait_timeout: 2h
            jobs:
              a: { run: external }
              b: { run: external }
              c:
                after: [a, b]
                wait_timeout: 30m
                run: { command: [c] }
            """);
        h.Started(Utc("2019-03-13T01:00"));

        h.Marker("b", "20190312", Utc("2019-03-13T03:00"));

        Assert.Equal(Utc("2019-03-13T03:30"), h.Run("c", "20190312").WaitDeadline);
    }

    [Fact]
    public void A_last_input_read_in_a_rescan_before_the_time_input_activates_the_run_even_past_its_deadline()
    {
        var h = FirstInputAtThree();

        // The scheduler was down over the deadline; the rescan reads b's marker before SchedulerStarted.
        var onMarker = h.Marker("b", "20190312", Utc("2019-03-13T09:00"));
        var onStart = h.Started(Utc("2019-03-13T09:00"));

        Assert.Equal(["c 20190312"], StartedIn(onMarker));
        Assert.Empty(AlertsIn(onStart));
        Assert.Equal(RunState.Running, h.Run("c", "20190312").State);
        Assert.Null(h.Run("c", "20190312").WaitDeadline);
    }

    [Fact]
    public void A_start_up_rescan_batch_is_applied_before_the_deadline_that_passed_while_down_is_judged()
    {
        var h = FirstInputAtThree();
        h.Restart(new SchedulerOptions { HoldUntilStarted = true });

        var onRescan = h.Markers(Utc("2019-03-13T09:00"), "b 20190312");
        var onStart = h.Started(Utc("2019-03-13T09:00"));

        Assert.Empty(StartedIn(onRescan)); // held until the rescan is complete
        Assert.Equal(["c 20190312"], StartedIn(onStart));
        Assert.Empty(AlertsIn(onStart));
        Assert.Empty(h.Alerts);
    }

    [Fact]
    public void A_rescan_batch_holding_the_waiting_runs_own_marker_settles_it_without_a_timeout_or_a_start()
    {
        var h = FirstInputAtThree();
        h.Restart(new SchedulerOptions { HoldUntilStarted = true });

        h.Markers(Utc("2019-03-13T09:00"), "b 20190312", "c 20190312");
        var onStart = h.Started(Utc("2019-03-13T09:00"));

        Assert.Equal(RunState.Succeeded, h.Run("c", "20190312").State);
        Assert.Equal(["d 20190312"], StartedIn(onStart));
        Assert.Empty(h.Alerts);
        Assert.DoesNotContain(h.Starts, s => s.Key == Key("c", "20190312"));
    }

    [Fact]
    public void A_start_up_rescan_without_the_missing_marker_times_the_run_out_when_the_scheduler_starts()
    {
        var h = FirstInputAtThree();
        h.Restart(new SchedulerOptions { HoldUntilStarted = true });

        var onRescan = h.Markers(Utc("2019-03-13T09:00"), "a 20190312");
        var onStart = h.Started(Utc("2019-03-13T09:00"));

        AssertNothingHappened(onRescan);
        Assert.Equal(RunState.TimedOut, h.Run("c", "20190312").State);
        Assert.Equal(Utc("2019-03-13T09:00"), h.Run("c", "20190312").FinishedAt);
        Assert.Equal(AlertKind.TimedOut, Assert.Single(AlertsIn(onStart)).Kind);
    }

    [Fact]
    public void The_last_input_before_the_deadline_disarms_it()
    {
        var h = FirstInputAtThree();

        h.Marker("b", "20190312", Utc("2019-03-13T04:59"));
        var effects = h.Time(Utc("2019-03-13T06:00"));

        AssertNothingHappened(effects);
        Assert.Equal(RunState.Running, h.Run("c", "20190312").State);
        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void A_run_whose_only_done_input_is_an_earlier_partition_offset_input_gets_no_wait_deadline()
    {
        var h = new TimeHarness("""
            defaults:
              wait_timeout: 2h
            jobs:
              player_entry: { run: external }
              revenue:
                after: [player_entry, { job: revenue, offset: -1 }]
                run: { command: [revenue, "{date}"] }
            """);
        h.Started(Utc("2019-03-13T01:00"));

        h.Marker("revenue", "20190312", Utc("2019-03-13T03:00"));

        var run = h.Run("revenue", "20190313");
        Assert.Equal(RunState.Waiting, run.State);
        Assert.Null(run.WaitDeadline);
        Assert.Null(h.Scheduler.NextWakeAt);
        AssertNothingHappened(h.Time(Utc("2019-03-20T00:00")));
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190313").State);

        var effects = h.Marker("player_entry", "20190313", Utc("2019-03-20T01:00"));

        Assert.Equal(["revenue 20190313"], StartedIn(effects));
    }

    [Fact]
    public void The_wait_clock_starts_when_the_first_same_partition_input_is_done_after_an_offset_input()
    {
        var h = new TimeHarness("""
            defaults:
              wait_timeout: 2h
            jobs:
              player_entry: { run: external }
              payments: { run: external }
              revenue:
                after: [player_entry, payments, { job: revenue, offset: -1 }]
                run: { command: [revenue, "{date}"] }
            """);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("revenue", "20190312", Utc("2019-03-13T03:00"));

        h.Marker("player_entry", "20190313", Utc("2019-03-14T03:00"));

        Assert.Equal(Utc("2019-03-14T05:00"), h.Run("revenue", "20190313").WaitDeadline);
        Assert.Equal(Utc("2019-03-14T05:00"), h.Scheduler.NextWakeAt);
    }
}
