using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>A new scheduler process over stored runs: guarantee 2 (at-least-once) and 3 (nothing lost).</summary>
public sealed class RestartTests
{
    private static readonly Pipeline Chain = PipelineOf(Job("a"), Job("b", "a") with { Retries = 2 }, Job("c", "b"));

    private static Harness Restart(Harness before) => new(before.Scheduler.Pipeline, before.Options, before.Scheduler.Runs.ToList());

    private static Run Stored(string job, string partition, RunState state) =>
        new() { Key = Key(job, partition), State = state, CreatedAt = Harness.T0 };

    [Fact]
    public void A_run_in_flight_when_the_scheduler_stopped_is_started_again()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");
        Assert.Equal(RunState.Running, before.Run("b", "20190312").State);

        var after = Restart(before);
        var effects = after.Started();

        var activation = Assert.Single(Harness.StartsIn(effects));
        Assert.Equal(Key("b", "20190312"), activation.Key);
        Assert.Equal(2, activation.Attempt);
        Assert.Equal("b__20190312__g1a2", activation.RunId);
        Assert.Equal(["b 20190312 interrupted", "b 20190312 started"], Harness.EventsIn(effects));
        Assert.Equal(0, after.Run("b", "20190312").Failures);
    }

    [Fact]
    public void The_exit_of_an_attempt_from_before_the_restart_is_ignored()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");
        var after = Restart(before);
        after.Started();

        var stale = after.Handle(new RunExited(Key("b", "20190312"), 1, 1, 1, null, after.Now));

        Harness.AssertNothingHappened(stale);
        Assert.Equal(RunState.Running, after.Run("b", "20190312").State);
        Assert.Equal(2, after.Run("b", "20190312").Attempt);
    }

    [Fact]
    public void A_marker_written_by_the_interrupted_attempt_still_completes_the_run()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");
        var after = Restart(before);
        after.Started();

        var effects = after.Marker("b", "20190312");

        Assert.Equal(RunState.Succeeded, after.Run("b", "20190312").State);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));
    }

    [Fact]
    public void A_waiting_run_whose_inputs_are_all_done_starts_when_the_scheduler_starts()
    {
        var after = new Harness(Chain, restored: [Stored("a", "20190312", RunState.Succeeded), Stored("b", "20190312", RunState.Waiting)]);

        var effects = after.Started();

        Assert.Equal([Key("b", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));
    }

    [Fact]
    public void A_waiting_run_with_a_missing_input_keeps_waiting_after_a_restart()
    {
        var pipeline = PipelineOf(Job("a"), Job("x"), Job("b", "a", "x"));
        var after = new Harness(pipeline, restored: [Stored("a", "20190312", RunState.Succeeded), Stored("b", "20190312", RunState.Waiting)]);

        Harness.AssertNothingHappened(after.Started());
        Assert.Equal(RunState.Waiting, after.Run("b", "20190312").State);
    }

    [Fact]
    public void A_stored_retry_that_fell_due_while_stopped_starts_at_once_and_a_later_one_waits()
    {
        var due = Stored("b", "20190312", RunState.Queued) with { Attempt = 1, Failures = 1, NextRetryAt = Harness.T0.AddMinutes(-1) };
        var later = Stored("b", "20190313", RunState.Queued) with { Attempt = 1, Failures = 1, NextRetryAt = Harness.T0.AddMinutes(10) };
        var after = new Harness(Chain, restored: [due, later]);

        var effects = after.Started();

        Assert.Equal([Key("b", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));
        Assert.Equal(2, Harness.StartsIn(effects)[0].Attempt);
        Assert.Equal(Harness.T0.AddMinutes(10), after.Scheduler.NextWakeAt);
        Assert.Equal([Key("b", "20190313")], Harness.StartsIn(after.Advance(TimeSpan.FromMinutes(10))).Select(a => a.Key));
    }

    [Fact]
    public void A_stored_queued_run_starts_again()
    {
        var after = new Harness(Chain, restored: [Stored("b", "20190312", RunState.Queued)]);

        Assert.False(after.Scheduler.IsIdle);
        Assert.Equal([Key("b", "20190312")], Harness.StartsIn(after.Started()).Select(a => a.Key));
    }

    [Fact]
    public void A_restart_with_nothing_in_flight_changes_nothing()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");
        before.Exit("b", "20190312", 0);
        before.Exit("c", "20190312", 0);

        var after = Restart(before);

        Harness.AssertNothingHappened(after.Started());
        Assert.True(after.Scheduler.IsIdle);
        Assert.Equal(3, after.Scheduler.Runs.Count(r => r.IsDone));
    }

    [Fact]
    public void Stored_runs_of_jobs_no_longer_in_the_pipeline_are_dropped()
    {
        var after = new Harness(Chain, restored: [Stored("gone", "20190312", RunState.Running), Stored("a", "20190312", RunState.Succeeded)]);

        Harness.AssertNothingHappened(after.Started());
        Assert.Equal([Key("a", "20190312")], after.Scheduler.Runs.Select(r => r.Key));
    }

    [Fact]
    public void Markers_rescanned_after_a_restart_are_duplicates_and_start_nothing_twice()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");
        before.Exit("b", "20190312", 0);
        var after = Restart(before);
        after.Started();

        foreach (var key in new[] { Key("a", "20190312"), Key("b", "20190312") })
        {
            Harness.AssertNothingHappened(after.Marker(key));
        }

        Assert.Equal(RunState.Running, after.Run("c", "20190312").State);
        Assert.Equal(2, after.Run("c", "20190312").Attempt);
    }

    [Fact]
    public void Partition_keys_survive_the_store_as_values()
    {
        var before = new Harness(Chain);
        before.Marker("a", "20190312");

        var restored = before.Scheduler.Runs.Select(r => r with { Key = new RunKey(r.Key.Job, Partition.Parse(r.Key.Partition.Key)) }).ToList();
        var after = new Harness(Chain, restored: restored);

        Assert.Single(Harness.StartsIn(after.Started()));
    }
}
