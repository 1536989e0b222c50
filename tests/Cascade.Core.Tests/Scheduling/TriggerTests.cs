using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary><c>cascade trigger</c>: activate a run now, without checking its inputs.</summary>
public sealed class TriggerTests
{
    [Fact]
    public void Trigger_of_a_root_starts_it()
    {
        var h = new Harness(Job("a"), Job("b", "a"));

        var effects = h.Trigger("a", "20190312");

        var activation = Assert.Single(Harness.StartsIn(effects));
        Assert.Equal(Key("a", "20190312"), activation.Key);
        Assert.Equal(1, activation.Attempt);
        var run = h.Run("a", "20190312");
        Assert.Equal(RunState.Running, run.State);
        Assert.Equal("trigger", run.Cause);
        Assert.Equal(h.Now, run.ActivatedAt);
        Assert.Equal(["a 20190312 queued", "a 20190312 started"], Harness.EventsIn(effects));
    }

    [Fact]
    public void Trigger_of_a_waiting_run_starts_it_without_its_missing_inputs()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c", "a", "b"));
        h.Marker("a", "20190312");

        var activation = Assert.Single(Harness.StartsIn(h.Trigger("c", "20190312")));

        Assert.Equal(Key("c", "20190312"), activation.Key);
        Assert.False(h.Scheduler.IsDone(Key("b", "20190312")));
    }

    [Fact]
    public void Trigger_of_a_succeeded_run_is_a_warning_and_starts_nothing()
    {
        var h = new Harness(Job("a"));
        h.Marker("a", "20190312");

        var effects = h.Trigger("a", "20190312");

        var warning = Assert.Single(Harness.WarningsIn(effects));
        Assert.Contains("already succeeded", warning, StringComparison.Ordinal);
        Assert.Contains("replay", warning, StringComparison.Ordinal);
        Assert.Empty(Harness.StartsIn(effects));
        Assert.Empty(Harness.EventsIn(effects));
    }

    [Fact]
    public void Trigger_of_a_running_run_is_a_warning()
    {
        var h = new Harness(Job("a"));
        h.Trigger("a", "20190312");

        var effects = h.Trigger("a", "20190312");

        Assert.Contains("already running", Assert.Single(Harness.WarningsIn(effects)), StringComparison.Ordinal);
        Assert.Single(h.Starts);
    }

    [Theory]
    [InlineData("nobody", "20190312", "unknown job 'nobody'")]
    [InlineData("a", "2019031205", "is daily")]
    [InlineData("ext", "20190312", "is external")]
    public void Trigger_that_cannot_apply_is_a_warning_and_changes_no_state(string job, string partition, string reason)
    {
        var h = new Harness(Job("a"), External("ext"));

        var effects = h.Trigger(job, partition);

        Assert.Contains(reason, Assert.Single(Harness.WarningsIn(effects)), StringComparison.Ordinal);
        Assert.Empty(Harness.EventsIn(effects));
        Assert.Empty(h.Scheduler.Runs);
    }

    [Fact]
    public void Trigger_of_a_failed_run_starts_a_new_attempt_with_a_fresh_retry_budget()
    {
        var h = new Harness(Job("a") with { Retries = 1 });
        h.Trigger("a", "20190312");
        h.Exit("a", "20190312", 1);
        h.Advance(TimeSpan.FromSeconds(30));
        h.Exit("a", "20190312", 1);
        Assert.Equal(RunState.Failed, h.Run("a", "20190312").State);

        var activation = Assert.Single(Harness.StartsIn(h.Trigger("a", "20190312")));

        Assert.Equal(3, activation.Attempt);
        Assert.Equal(0, h.Run("a", "20190312").Failures);
        h.Exit("a", "20190312", 1);
        Assert.Equal(RunState.Queued, h.Run("a", "20190312").State);
    }

    [Fact]
    public void Trigger_during_a_retry_backoff_retries_now()
    {
        var h = new Harness(Job("a") with { Retries = 2, RetryBackoff = TimeSpan.FromHours(1) });
        h.Trigger("a", "20190312");
        h.Exit("a", "20190312", 1);

        var activation = Assert.Single(Harness.StartsIn(h.Trigger("a", "20190312")));

        Assert.Equal(2, activation.Attempt);
        Assert.Null(h.Scheduler.NextWakeAt);
        Harness.AssertNothingHappened(h.Advance(TimeSpan.FromHours(2)));
    }
}
