using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Replay;

/// <summary>A replayed run is not a trigger: it never starts before its inputs are done (guarantee 1).</summary>
public sealed class ReplayInputsTests
{
    /// <summary>logs (external) → entry; a second input `feed` (external) for entry, with a wait timeout of 2 h.</summary>
    private static Harness Pipeline() =>
        new(External("logs"), External("feed"), Job("entry", "logs", "feed") with { WaitTimeout = TimeSpan.FromHours(2) });

    [Fact]
    public void Regression_8_01_a_replay_of_a_partition_whose_inputs_are_missing_waits_for_them_and_starts_once_they_are_done()
    {
        var h = Pipeline();

        var effects = h.Replay("entry", "20190405");

        Assert.Empty(Harness.StartsIn(effects));
        var run = h.Run("entry", "20190405");
        Assert.Equal((RunState.Waiting, 1, "replay"), (run.State, run.Generation, run.Cause));

        h.Marker("logs", "20190405");
        Assert.Empty(h.Starts);
        Assert.Equal(h.Now + TimeSpan.FromHours(2), h.Run("entry", "20190405").WaitDeadline); // its normal wait deadline

        var last = h.Marker("feed", "20190405");

        Assert.Equal(["entry 20190405"], ReplayDriver.StartedIn(last));
    }

    [Fact]
    public void Regression_8_01_a_replayed_run_with_an_input_missing_times_out_like_any_waiting_run()
    {
        var h = Pipeline();
        h.Marker("logs", "20190312");
        h.Marker("feed", "20190312");
        h.Settle();
        Assert.Equal(RunState.Succeeded, h.Run("entry", "20190312").State);
        h.Marker("logs", "20190313");

        h.Replay("entry", "20190312", "20190313");

        Assert.Equal(["entry 20190312"], h.Starts.Skip(1).Names());
        Assert.Equal(RunState.Waiting, h.Run("entry", "20190313").State);
        h.Settle();
        h.Advance(TimeSpan.FromHours(3));
        Assert.Equal(RunState.TimedOut, h.Run("entry", "20190313").State);
        Assert.Equal(2, h.Starts.Count);
    }

    [Fact]
    public void Regression_8_01_the_replay_plan_names_the_inputs_a_replayed_run_waits_for()
    {
        var h = Pipeline();
        h.Marker("logs", "20190312");
        h.Marker("feed", "20190312");
        h.Settle();

        var plan = ReplayPlan.Create(h.Scheduler.Pipeline, h.Scheduler.Get, "entry", P("20190312"), P("20190313"), downstream: false, h.Now);

        var (done, missing) = (plan.Runs[0], plan.Runs[1]);
        Assert.True(done.StartsAtOnce(h.Scheduler.Pipeline));
        Assert.Empty(done.Missing);
        Assert.False(missing.StartsAtOnce(h.Scheduler.Pipeline));
        Assert.Equal([Key("logs", "20190313"), Key("feed", "20190313")], missing.Missing);
    }

    [Fact]
    public void Regression_8_01_a_run_queued_on_an_input_that_is_then_replayed_waits_for_the_new_marker_instead_of_starting_on_the_old_one()
    {
        var h = new Harness(PipelineOf(External("src"), Job("a", "src"), Job("b", "a"), Job("hog")), new SchedulerOptions { MaxParallel = 1 });
        h.Marker("src", "20190312");
        h.Trigger("hog", "20190301");
        h.Exit("a", "20190312", 0); // b is queued, but hog (an older partition) takes the only slot
        Assert.Equal((RunState.Queued, RunState.Running), (h.Run("b", "20190312").State, h.Run("hog", "20190301").State));

        h.Replay("a", "20190312");

        Assert.Equal(RunState.Waiting, h.Run("b", "20190312").State);
        h.Exit("hog", "20190301", 0);
        Assert.Equal(RunState.Running, h.Run("a", "20190312").State);
        Assert.Equal(["a 20190312", "hog 20190301", "a 20190312"], h.Starts.Names());
        Assert.Equal(["b 20190312"], ReplayDriver.StartedIn(h.Exit("a", "20190312", 0)));
    }
}
