using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Replay;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>
/// Spec §4: a broken run marks downstream runs only for partitions that exist (a run there, a done
/// input, or a run of a same-partition input), never an open-ended series of future days — and
/// mending it revives only those.
/// </summary>
public sealed class BoundedBreakageTests
{
    /// <summary>The demo's running total: revenue after entry (external) and yesterday's revenue; today is years later.</summary>
    private static Harness RunningTotal()
    {
        var h = new Harness(
            External("entry"),
            Job("revenue") with { After = [Dep("entry"), Dep("revenue", -1)], Start = Date("2019-03-11") },
            Job("report", "revenue"));
        h.Clock.Advance(TimeSpan.FromDays(365 * 7)); // as in the demo: the failure is years in the past
        return h;
    }

    private static int RunsOf(Harness h, string job) => h.Scheduler.Runs.Count(r => r.Key.Job == job);

    [Fact]
    public void Regression_8_07_a_failure_in_a_running_total_creates_no_runs_for_days_nothing_reached()
    {
        var h = RunningTotal();
        h.Marker("entry", "20190311");
        h.Marker("entry", "20190312");
        h.Exit("revenue", "20190311", 0);
        Assert.Equal(RunState.Running, h.Run("revenue", "20190312").State);

        var effects = h.Exit("revenue", "20190312", 1);

        Assert.Equal(RunState.Failed, h.Run("revenue", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("report", "20190312").State);
        Assert.Null(h.Find("revenue", "20190313"));
        Assert.Equal((2, 2), (RunsOf(h, "revenue"), RunsOf(h, "report")));
        Assert.Equal(["report"], Assert.Single(effects.OfType<SchedulerEffect.SendAlert>()).Alert.BrokenDownstream);
        Assert.True(effects.Count < 20, $"{effects.Count} effects for one failure");
    }

    [Fact]
    public void Regression_8_07_a_run_beyond_a_gap_is_broken_and_mended_without_creating_the_gap()
    {
        var h = RunningTotal();
        h.Marker("entry", "20190311");
        h.Marker("entry", "20190312");
        h.Marker("entry", "20190314"); // the 13th never arrived
        h.Exit("revenue", "20190311", 0);
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190314").State);

        h.Exit("revenue", "20190312", 1);

        Assert.Equal(RunState.UpstreamFailed, h.Run("revenue", "20190314").State);
        Assert.Null(h.Find("revenue", "20190313"));

        h.Trigger("revenue", "20190312");

        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190314").State);
        Assert.Equal(RunState.Waiting, h.Run("report", "20190312").State);
        Assert.Null(h.Find("revenue", "20190313"));
        h.Exit("revenue", "20190312", 0);
        h.Settle();
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190313").State); // its yesterday is done: it waits for entry 20190313, as always
        Assert.Equal((4, 3), (RunsOf(h, "revenue"), RunsOf(h, "report"))); // report of the 11th, 12th and 14th: days that exist
    }

    [Fact]
    public void Regression_8_07_a_day_that_appears_after_the_failure_is_upstream_failed_at_once_and_never_starts()
    {
        var h = RunningTotal();
        h.Marker("entry", "20190311");
        h.Exit("revenue", "20190311", 1);

        h.Marker("entry", "20190312");

        Assert.Equal(RunState.UpstreamFailed, h.Run("revenue", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("report", "20190312").State);
        Assert.DoesNotContain(h.Starts, a => a.Key.Partition == P("20190312"));
        Assert.Null(h.Find("revenue", "20190313"));
    }

    [Fact]
    public void Regression_8_07_cancel_of_a_range_clears_the_waiting_runs_of_the_job_in_it_and_nothing_else()
    {
        var h = RunningTotal();
        h.Marker("entry", "20190311");
        h.Exit("revenue", "20190311", 0);
        h.Exit("report", "20190311", 0);
        h.Marker("entry", "20190313");
        h.Marker("entry", "20190320");
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190312").State); // yesterday done, entry 12 missing

        var effects = h.Handle(new SchedulerInput.CancelRequested(null, Key("revenue", "20190312"), h.Now, P("20190331")));

        Assert.Equal(["revenue 20190312 cancelled", "revenue 20190313 cancelled", "revenue 20190320 cancelled"], Harness.EventsIn(effects));
        Assert.All(h.Scheduler.Runs.Where(r => r.Key.Job == "revenue" && r.Key.Partition > P("20190311")), r => Assert.Equal((RunState.Failed, "cancelled"), (r.State, r.Reason)));
        Assert.Equal(RunState.Succeeded, h.Run("revenue", "20190311").State);
        Assert.Contains("nothing waiting, queued or running for revenue 20190401..20190402", Assert.Single(Harness.WarningsIn(h.Handle(new SchedulerInput.CancelRequested(null, Key("revenue", "20190401"), h.Now, P("20190402"))))), StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_8_07_a_failure_in_a_backfill_breaks_only_the_backfills_days()
    {
        var h = new Harness(Job("src") with { Start = Date("2019-03-01") }, Job("total") with { After = [Dep("src"), Dep("total", -1)] });
        h.Clock.Advance(TimeSpan.FromDays(365 * 7));
        h.Backfill("bf", "2019-03-01", "2019-03-12");
        h.Exit("src", "20190301", 0);

        h.Exit("total", "20190301", 1);

        Assert.Equal(RunState.Failed, h.Run("total", "20190301").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("total", "20190312").State);
        Assert.Null(h.Find("total", "20190313"));
        Assert.Equal(12, RunsOf(h, "total"));
    }
}
