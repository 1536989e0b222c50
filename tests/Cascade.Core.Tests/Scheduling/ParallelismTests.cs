using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>Execution limits: the global <c>--max-parallel</c> and each job's <c>max_parallel</c>.</summary>
public sealed class ParallelismTests
{
    [Fact]
    public void The_global_limit_holds_back_queued_runs_until_a_slot_frees()
    {
        var h = new Harness(PipelineOf(Job("a"), Job("b", "a"), Job("c", "a"), Job("d", "a")), new SchedulerOptions { MaxParallel = 2 });

        var first = Harness.StartsIn(h.Marker("a", "20190312"));

        Assert.Equal(["b", "c"], first.Select(a => a.Key.Job));
        Assert.Equal(RunState.Queued, h.Run("d", "20190312").State);
        Assert.Equal(2, h.Scheduler.RunningCount);
        Assert.False(h.Scheduler.IsIdle);

        Assert.Equal(["d"], Harness.StartsIn(h.Exit("c", "20190312", 0)).Select(a => a.Key.Job));
        Assert.Equal(2, h.Scheduler.RunningCount);
    }

    [Fact]
    public void A_jobs_own_limit_runs_its_partitions_one_at_a_time_without_blocking_other_jobs()
    {
        var h = new Harness(Job("rates"), Hourly("convert", "rates") with { MaxParallel = 1 }, Job("other", "rates"));

        var started = Harness.StartsIn(h.Marker("rates", "20190312"));

        Assert.Equal(["other 20190312", "convert 2019031200"], started.Select(a => a.Key.ToString()));
        for (var hour = 0; hour < 23; hour++)
        {
            var next = Harness.StartsIn(h.Exit("convert", $"20190312{hour:D2}", 0));
            Assert.Equal([Key("convert", $"20190312{hour + 1:D2}")], next.Select(a => a.Key));
        }

        Assert.Empty(Harness.StartsIn(h.Exit("convert", "2019031223", 0)));
        Assert.Equal(24, h.Starts.Count(a => a.Key.Job == "convert"));
    }

    [Fact]
    public void Both_limits_apply_together()
    {
        var h = new Harness(
            PipelineOf(Job("a"), Hourly("x", "a") with { MaxParallel = 2 }, Hourly("y", "a") with { MaxParallel = 2 }),
            new SchedulerOptions { MaxParallel = 3 });

        var started = Harness.StartsIn(h.Marker("a", "20190312"));

        Assert.Equal(3, started.Count);
        Assert.True(started.GroupBy(a => a.Key.Job).All(g => g.Count() <= 2));
    }

    [Fact]
    public void A_run_whose_marker_arrives_while_running_keeps_its_slot_until_its_process_exits()
    {
        var h = new Harness(PipelineOf(Job("a"), Job("b", "a"), Job("c", "a")), new SchedulerOptions { MaxParallel = 1 });
        h.Marker("a", "20190312");

        Assert.Empty(Harness.StartsIn(h.Marker("b", "20190312")));
        Assert.Equal(1, h.Scheduler.RunningCount);

        Assert.Equal(["c"], Harness.StartsIn(h.Exit("b", "20190312", 0)).Select(a => a.Key.Job));
    }

    // Regression (found while writing these tests): Dispatch counted a slot as used before Start
    // ran, so a run failing at activation (missing placeholder) used up a slot it never held and
    // the next queued run waited for some unrelated input.
    [Fact]
    public void Activation_error_does_not_hold_back_the_next_queued_run()
    {
        var h = new Harness(
            PipelineOf(
                Job("root"),
                Job("bad", "root") with { Run = new RunSpec.Command(["./bad.sh", "{params.missing}"]) },
                Job("good", "root")),
            new SchedulerOptions { MaxParallel = 1 });

        var effects = h.Marker("root", "20190312");

        Assert.Equal(RunState.Failed, h.Run("bad", "20190312").State);
        Assert.True(
            Harness.StartsIn(effects).Any(a => a.Key.Job == "good"),
            $"BUG: 'good' is left {h.Run("good", "20190312").State} with {h.Scheduler.RunningCount} of 1 slots in use after 'bad' failed to activate");
    }
}
