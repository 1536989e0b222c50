using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>SPEC §4: a run waits for its remaining inputs at most <c>wait_timeout</c>, then breaks the chain.</summary>
public sealed class WaitTimeoutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromHours(2);

    private static Harness FanIn() =>
        new(Job("a"), Job("b"), Job("c", "a", "b") with { WaitTimeout = Timeout }, Job("d", "c"));

    [Fact]
    public void The_wait_deadline_is_set_when_the_first_input_is_done()
    {
        var h = FanIn();

        h.Marker("a", "20190312");

        Assert.Equal(h.Now + Timeout, h.Run("c", "20190312").WaitDeadline);
        Assert.Equal(h.Now + Timeout, h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void A_run_still_waiting_at_its_deadline_times_out_and_breaks_its_downstream_with_one_alert()
    {
        var h = FanIn();
        h.Marker("a", "20190312");

        Harness.AssertNothingHappened(h.Advance(Timeout - TimeSpan.FromMilliseconds(1)));
        var effects = h.Advance(TimeSpan.FromMilliseconds(1));

        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.TimedOut, run.State);
        Assert.Contains("b 20190312", run.Reason, StringComparison.Ordinal);
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
        var alert = Assert.Single(effects.OfType<SendAlert>()).Alert;
        Assert.Equal(AlertKind.TimedOut, alert.Kind);
        Assert.Equal(Key("c", "20190312"), alert.Key);
        Assert.Equal(["b 20190312"], alert.MissingInputs);
        Assert.Equal(["d"], alert.BrokenDownstream);
        Assert.Empty(h.Starts);
    }

    [Fact]
    public void The_last_input_before_the_deadline_activates_the_run_and_disarms_the_deadline()
    {
        var h = FanIn();
        h.Marker("a", "20190312");
        h.Clock.Advance(Timeout / 2);

        Assert.Single(Harness.StartsIn(h.Marker("b", "20190312")));

        Assert.Null(h.Run("c", "20190312").WaitDeadline);
        Assert.Null(h.Scheduler.NextWakeAt);
        Assert.DoesNotContain(h.Advance(Timeout * 2), e => e is SendAlert);
        Assert.Equal(RunState.Running, h.Run("c", "20190312").State);
    }

    [Fact]
    public void A_late_input_is_recorded_but_the_chain_stays_broken()
    {
        var h = FanIn();
        h.Marker("a", "20190312");
        h.Advance(Timeout);

        var onLateInput = h.Marker("b", "20190312");
        var onLateMarker = h.Marker("c", "20190312");

        Assert.Empty(h.Starts);
        Assert.Empty(Harness.StartsIn(onLateInput));
        Assert.Empty(Harness.StartsIn(onLateMarker));
        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.TimedOut, run.State);
        Assert.Contains(run.Warnings, w => w.StartsWith("late input b 20190312", StringComparison.Ordinal));
        Assert.Contains(run.Warnings, w => w.StartsWith("late marker", StringComparison.Ordinal));
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
    }

    [Fact]
    public void Without_a_wait_timeout_a_run_waits_forever()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c", "a", "b"));
        h.Marker("a", "20190312");

        Harness.AssertNothingHappened(h.Advance(TimeSpan.FromDays(30)));

        Assert.Equal(RunState.Waiting, h.Run("c", "20190312").State);
        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void Regression_8_07_a_timeout_breaks_later_partitions_reached_by_offsets_only_where_they_exist_and_the_others_when_they_appear()
    {
        var h = new Harness(
            External("pe"),
            External("x"),
            Job("revenue") with { After = [Dep("pe"), Dep("x"), Dep("revenue", -1)], Start = Date("2019-03-01"), WaitTimeout = Timeout });
        h.Marker("pe", "20190301");
        h.Marker("pe", "20190302");

        h.Advance(Timeout);

        Assert.Equal(RunState.TimedOut, h.Run("revenue", "20190301").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("revenue", "20190302").State);
        Assert.Null(h.Find("revenue", "20190303")); // nothing reached the 3rd: no run for it (spec §4)
        Assert.Equal(2, h.Scheduler.Runs.Count(r => r.Key.Job == "revenue"));

        h.Marker("pe", "20190303");

        Assert.Equal(RunState.UpstreamFailed, h.Run("revenue", "20190303").State);
        Assert.Empty(h.Starts);
    }
}
