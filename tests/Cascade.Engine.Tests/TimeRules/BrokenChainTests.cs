using Cascade.Core.Scheduling;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §4: a timed out or failed run breaks every run downstream of it (transitively, same and
/// later partitions reached by offsets); late markers are recorded and change nothing.
/// </summary>
public sealed class BrokenChainTests
{
    private const string Revenue = """
        defaults:
          wait_timeout: 2h
        jobs:
          player_entry: { start: 2019-03-12, run: external }
          payments: { start: 2019-03-12, run: external }
          sessions: { start: 2019-03-12, run: external }
          revenue:
            after: [player_entry, payments, { job: revenue, offset: -1 }]
            run: { command: [revenue, "{date}"] }
          bi_import:
            after: [revenue, sessions]
            run: { command: [bi_import, "{date}"] }
        """;

    private const string FanIn = """
        jobs:
          a: { run: external }
          b: { run: external }
          c:
            after: [a, b]
            wait_timeout: 2h
            run: { command: [c, "{date}"] }
          d:
            after: [c]
            run: { command: [d, "{date}"] }
        """;

    /// <summary>revenue 20190312 times out on the 12th, before the 13th has begun.</summary>
    private static TimeHarness RevenueTimedOutOnItsOwnDay(out IReadOnlyList<SchedulerEffect> onTimeout)
    {
        var h = new TimeHarness(Revenue);
        h.Started(Utc("2019-03-12T09:00"));
        h.Marker("player_entry", "20190312", Utc("2019-03-12T10:00"));
        onTimeout = h.Time(Utc("2019-03-12T12:00"));
        Assert.Equal(RunState.TimedOut, h.Run("revenue", "20190312").State);
        return h;
    }

    [Fact]
    public void A_timed_out_revenue_day_breaks_bi_import_of_that_day_with_one_alert()
    {
        var h = RevenueTimedOutOnItsOwnDay(out var effects);

        Assert.Equal(RunState.UpstreamFailed, h.Run("bi_import", "20190312").State);
        var alert = Assert.Single(AlertsIn(effects));
        Assert.Equal(AlertKind.TimedOut, alert.Kind);
        Assert.Equal(["payments 20190312"], alert.MissingInputs);
        Assert.Equal(["bi_import"], alert.BrokenDownstream);
        Assert.Null(h.Find("revenue", "20190313")); // that day has not begun yet
    }

    [Fact]
    public void When_the_next_days_inputs_come_revenue_of_the_next_day_is_upstream_failed_without_starting()
    {
        var h = RevenueTimedOutOnItsOwnDay(out _);

        var onFirst = h.Marker("player_entry", "20190313", Utc("2019-03-14T03:00"));
        var onSecond = h.Marker("payments", "20190313", Utc("2019-03-14T03:05"));
        var onTime = h.Time(Utc("2019-03-14T12:00"));

        var run = h.Run("revenue", "20190313");
        Assert.Equal(RunState.UpstreamFailed, run.State);
        Assert.Contains("revenue 20190312 is timed_out", run.Reason, StringComparison.Ordinal);
        Assert.Equal(RunState.UpstreamFailed, h.Run("bi_import", "20190313").State);
        Assert.Empty(h.Starts);
        Assert.Empty(AlertsIn(onFirst));
        Assert.Empty(AlertsIn(onSecond));
        AssertNothingHappened(onTime);
        Assert.Single(h.Alerts);
    }

    [Fact]
    public void Regression_8_07_a_timeout_after_the_next_day_has_begun_breaks_only_days_that_exist_and_the_next_day_when_its_inputs_come()
    {
        var h = new TimeHarness(Revenue);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("player_entry", "20190312", Utc("2019-03-13T03:00"));

        var effects = h.Time(Utc("2019-03-13T05:00"));

        // Nothing has reached the 13th yet: no run is created for it (spec §4: only partitions that exist).
        Assert.Null(h.Find("revenue", "20190313"));
        Assert.Null(h.Find("bi_import", "20190313"));
        Assert.Equal(RunState.UpstreamFailed, h.Run("bi_import", "20190312").State);
        Assert.Equal(["bi_import"], Assert.Single(AlertsIn(effects)).BrokenDownstream);

        h.Marker("player_entry", "20190313", Utc("2019-03-13T06:00"));

        Assert.Equal(RunState.UpstreamFailed, h.Run("revenue", "20190313").State);
        Assert.Empty(h.Starts);
    }

    [Fact]
    public void The_missing_marker_after_the_timeout_is_recorded_as_a_late_input_and_the_run_stays_timed_out()
    {
        var h = new TimeHarness(FanIn);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T03:00"));
        h.Time(Utc("2019-03-13T05:00"));

        var effects = h.Marker("b", "20190312", Utc("2019-03-13T06:00"));

        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.TimedOut, run.State);
        Assert.Single(run.Warnings, w => w.StartsWith("late input b 20190312", StringComparison.Ordinal));
        Assert.Empty(StartedIn(effects));
        Assert.Empty(AlertsIn(effects));
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
    }

    [Fact]
    public void A_late_marker_for_the_timed_out_run_itself_is_recorded_once_and_not_acted_on()
    {
        var h = new TimeHarness(FanIn);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T03:00"));
        h.Time(Utc("2019-03-13T05:00"));

        var first = h.Marker("c", "20190312", Utc("2019-03-13T07:00"));
        var duplicate = h.Marker("c", "20190312", Utc("2019-03-13T07:30"));

        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.TimedOut, run.State);
        Assert.Single(run.Warnings, w => w.StartsWith("late marker", StringComparison.Ordinal));
        Assert.Empty(StartedIn(first));
        AssertNothingHappened(duplicate);
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
        Assert.Empty(h.Starts);
    }

    [Fact]
    public void Triggering_a_timed_out_run_requeues_it_and_mends_its_downstream_so_the_chain_continues()
    {
        var h = new TimeHarness(FanIn);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T03:00"));
        h.Time(Utc("2019-03-13T05:00"));

        var onTrigger = h.Trigger("c", "20190312", Utc("2019-03-13T08:00"));

        Assert.Equal(["c 20190312"], StartedIn(onTrigger));
        Assert.Equal("trigger", h.Run("c", "20190312").Cause);
        Assert.Equal(RunState.Waiting, h.Run("d", "20190312").State);
        Assert.Equal(["d 20190312"], StartedIn(h.Exit("c", "20190312", 0, Utc("2019-03-13T08:10"))));
    }
}
