using Cascade.Core.Markers;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>What happens when an attempt ends: success, retry with backoff, failure, stale results.</summary>
public sealed class RunOutcomeTests
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(30);

    private static Harness Started(int retries = 3)
    {
        var h = new Harness(Job("a"), Job("b", "a") with { Retries = retries, RetryBackoff = Backoff }, Job("c", "b"));
        Assert.Single(Harness.StartsIn(h.Marker("a", "20190312")));
        return h;
    }

    [Fact]
    public void Exit_zero_makes_the_run_succeeded_and_activates_downstream()
    {
        var h = Started();
        h.Clock.Advance(TimeSpan.FromMinutes(3));
        var body = MarkerBody.Parse("""{"rows": 10}""");

        var effects = h.Exit("b", "20190312", 0, body);

        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(h.Now, run.FinishedAt);
        Assert.Same(body, run.Marker);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));
    }

    [Fact]
    public void Exit_zero_without_a_marker_body_counts_as_an_empty_marker()
    {
        var h = Started();

        h.Exit("b", "20190312", 0);

        Assert.Same(MarkerBody.Empty, h.Run("b", "20190312").Marker);
    }

    [Fact]
    public void A_failed_attempt_is_retried_after_a_backoff_that_doubles()
    {
        var h = Started(retries: 3);
        var activatedAt = h.Now;

        foreach (var (attempt, delay) in new[] { (1, Backoff), (2, Backoff * 2), (3, Backoff * 4) })
        {
            h.Clock.Advance(TimeSpan.FromSeconds(7));
            var failedAt = h.Now;
            var effects = h.Exit("b", "20190312", 1);

            var queued = h.Run("b", "20190312");
            Assert.Equal(RunState.Queued, queued.State);
            Assert.Equal(failedAt + delay, queued.NextRetryAt);
            Assert.Equal(attempt, queued.Failures);
            Assert.Equal(1, queued.ExitCode);
            Assert.Contains("exited with code 1", queued.Reason, StringComparison.Ordinal);
            Assert.Equal(["b 20190312 retry"], Harness.EventsIn(effects));
            Assert.Equal(failedAt + delay, h.Scheduler.NextWakeAt);
            Assert.False(h.Scheduler.IsIdle);

            Harness.AssertNothingHappened(h.Advance(delay - TimeSpan.FromMilliseconds(1)));
            var started = Harness.StartsIn(h.Advance(TimeSpan.FromMilliseconds(1)));

            Assert.Equal(attempt + 1, Assert.Single(started).Attempt);
            var running = h.Run("b", "20190312");
            Assert.Equal(RunState.Running, running.State);
            Assert.Null(running.NextRetryAt);
            Assert.Equal(h.Now, running.StartedAt);
            Assert.Equal(activatedAt, running.ActivatedAt);
        }
    }

    [Fact]
    public void When_retries_are_exhausted_the_run_fails_and_downstream_is_not_activated()
    {
        var h = Started(retries: 1);
        h.Exit("b", "20190312", 2);
        h.Advance(Backoff);

        var effects = h.Exit("b", "20190312", 3);

        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(2, run.Failures);
        Assert.Equal(2, run.Attempt);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal(h.Now, run.FinishedAt);
        Assert.Null(run.NextRetryAt);
        Assert.Empty(Harness.StartsIn(effects));
        Assert.True(h.Find("c", "20190312")?.State is null or not (RunState.Queued or RunState.Running or RunState.Succeeded));
        Assert.True(h.Scheduler.IsIdle);
    }

    [Fact]
    public void Without_retries_a_failed_exit_fails_the_run_at_once()
    {
        var h = Started(retries: 0);

        h.Exit("b", "20190312", 1);

        Assert.Equal(RunState.Failed, h.Run("b", "20190312").State);
        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void A_run_that_could_not_be_started_fails_without_retry()
    {
        var h = Started(retries: 3);
        var run = h.Run("b", "20190312");

        var effects = h.Handle(new RunNotStarted(run.Key, run.Generation, run.Attempt, "./run.sh: not found", h.Now));

        var failed = h.Run("b", "20190312");
        Assert.Equal(RunState.Failed, failed.State);
        Assert.Contains("could not start: ./run.sh: not found", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("not retried", failed.Reason, StringComparison.Ordinal);
        Assert.Null(failed.NextRetryAt);
        Assert.Empty(Harness.StartsIn(effects));
        Assert.True(h.Scheduler.IsIdle);
    }

    [Fact]
    public void A_marker_arriving_while_running_succeeds_the_run_and_its_later_exit_is_ignored()
    {
        var h = Started(retries: 3);

        var onMarker = h.Marker("b", "20190312");
        Assert.Equal(RunState.Succeeded, h.Run("b", "20190312").State);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(onMarker).Select(a => a.Key));
        Assert.Equal(2, h.Scheduler.RunningCount);

        var onExit = h.Exit("b", "20190312", 1);

        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Null(run.NextRetryAt);
        Assert.Contains("exited with code 1 after its marker was written", Assert.Single(run.Warnings), StringComparison.Ordinal);
        Assert.Empty(Harness.StartsIn(onExit));
        Assert.Equal(1, h.Scheduler.RunningCount);
    }

    [Fact]
    public void A_marker_arriving_during_the_backoff_cancels_the_retry()
    {
        var h = Started(retries: 3);
        h.Exit("b", "20190312", 1);

        var onMarker = h.Marker("b", "20190312");

        Assert.Equal(RunState.Succeeded, h.Run("b", "20190312").State);
        Assert.Null(h.Scheduler.NextWakeAt);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(onMarker).Select(a => a.Key));
        Assert.Empty(Harness.StartsIn(h.Advance(Backoff * 10)));
        Assert.DoesNotContain(h.Starts, a => a.Key == Key("b", "20190312") && a.Attempt == 2);
    }

    [Fact]
    public void An_exit_of_an_older_attempt_is_ignored()
    {
        var h = Started(retries: 3);
        h.Exit("b", "20190312", 1);
        h.Advance(Backoff);
        var run = h.Run("b", "20190312");
        Assert.Equal(2, run.Attempt);

        var stale = h.Handle(new RunExited(run.Key, run.Generation, 1, 0, null, h.Now));
        var otherGeneration = h.Handle(new RunExited(run.Key, run.Generation + 1, 2, 0, null, h.Now));

        Harness.AssertNothingHappened(stale);
        Harness.AssertNothingHappened(otherGeneration);
        Assert.Equal(RunState.Running, h.Run("b", "20190312").State);
        Assert.Equal(1, h.Scheduler.RunningCount);
    }

    [Fact]
    public void A_second_exit_of_the_same_attempt_is_ignored()
    {
        var h = Started(retries: 3);
        h.Exit("b", "20190312", 0);
        var run = h.Run("b", "20190312");

        var again = h.Handle(new RunExited(run.Key, run.Generation, run.Attempt, 1, null, h.Now));

        Harness.AssertNothingHappened(again);
        Assert.Equal(RunState.Succeeded, h.Run("b", "20190312").State);
    }

    [Fact]
    public void An_exit_for_a_run_never_started_is_ignored()
    {
        var h = Started();

        Harness.AssertNothingHappened(h.Handle(new RunExited(Key("c", "20190401"), 1, 1, 0, null, h.Now)));
        Harness.AssertNothingHappened(h.Handle(new RunNotStarted(Key("c", "20190401"), 1, 1, "gone", h.Now)));
        Assert.Null(h.Find("c", "20190401"));
    }
}
