using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>
/// A remote (run.http) attempt in flight when the scheduler stopped (issue 11, "activation across a
/// crash"): its activation was committed before it was sent, so a starting scheduler does not queue
/// it again as a new attempt (a new run id). <c>on_restart: wait</c> sends nothing and waits for the
/// marker; <c>on_restart: resend</c> sends the same attempt again.
/// </summary>
public sealed class RemoteRestartTests
{
    private static JobDefinition Remote(string name, RemoteRestart onRestart, params string[] after) =>
        Job(name, after) with
        {
            Retries = 1,
            RetryBackoff = TimeSpan.FromMinutes(1),
            RunTimeout = TimeSpan.FromHours(1),
            Run = new RunSpec.Http(new HttpActivation
            {
                Url = "https://x/{job}",
                Body = new BodyTemplate.Members([new("name", new BodyTemplate.Text("{run_id}")), new("attempt", new BodyTemplate.Text("{attempt}"))]),
                OnRestart = onRestart,
            }),
        };

    private static Harness Restart(Harness before, TimeSpan later)
    {
        var after = new Harness(before.Scheduler.Pipeline, before.Options, before.Scheduler.Runs.ToList());
        after.Clock.SetUtcNow(before.Now + later);
        return after;
    }

    private static Harness InFlight(RemoteRestart onRestart, out Activation first)
    {
        var h = new Harness(Job("a"), Remote("r", onRestart, "a"), Job("c", "r"));
        first = Assert.Single(Harness.StartsIn(h.Marker("a", "20190312")));
        Assert.Equal(RunState.Running, h.Run("r", "20190312").State);
        return h;
    }

    [Fact]
    public void Regression_11_a_restart_while_a_remote_run_waits_for_its_marker_sends_no_new_attempt()
    {
        var before = InFlight(RemoteRestart.Wait, out var first);

        var after = Restart(before, TimeSpan.FromMinutes(20));
        var effects = after.Started();

        // Before: "r interrupted", "r started" with attempt 2 and run id g1a2 — a second activation.
        var resumed = Assert.Single(Harness.StartsIn(effects));
        Assert.Equal(["r 20190312 resumed"], Harness.EventsIn(effects));
        Assert.Equal(RemoteRestart.Wait, resumed.AfterRestart);
        Assert.Equal((1, 1, first.RunId), (resumed.Generation, resumed.Attempt, resumed.RunId));
        Assert.Equal(first.StartedAt, resumed.StartedAt);
        var run = after.Run("r", "20190312");
        Assert.Equal((RunState.Running, 1, 0), (run.State, run.Attempt, run.Failures));
        Assert.False(after.Scheduler.IsIdle);
        var changed = Assert.Single(effects.OfType<SchedulerEffect.RunChanged>());
        Assert.Equal(after.Now, changed.At);
        Assert.Contains("not sent again (on_restart: wait)", changed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void With_wait_the_marker_after_a_restart_succeeds_the_run_and_starts_its_downstream()
    {
        var after = Restart(InFlight(RemoteRestart.Wait, out _), TimeSpan.FromMinutes(20));
        after.Started();

        var effects = after.Marker("r", "20190312");

        Assert.Equal(RunState.Succeeded, after.Run("r", "20190312").State);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));

        // The waiting attempt then ends as exit 0: nothing more happens.
        Assert.DoesNotContain(after.Exit("r", "20190312", 0), e => e is SchedulerEffect.StartRun or SchedulerEffect.WriteMarker);
        Assert.Equal(1, after.Run("r", "20190312").Attempt);
    }

    [Fact]
    public void With_wait_a_run_timeout_after_a_restart_fails_the_same_attempt_through_the_usual_retry_and_alert_path()
    {
        var after = Restart(InFlight(RemoteRestart.Wait, out _), TimeSpan.FromMinutes(20));
        var resumed = Assert.Single(Harness.StartsIn(after.Started()));

        after.Handle(new RunFailed(resumed.Key, resumed.Generation, resumed.Attempt, "no marker within run_timeout 1h after the activation", Retry: true, after.Now));
        Assert.Equal((RunState.Queued, 1), (after.Run("r", "20190312").State, after.Run("r", "20190312").Failures));

        var retry = Assert.Single(Harness.StartsIn(after.Advance(TimeSpan.FromMinutes(1))));
        Assert.Equal((2, "r__20190312__g1a2", (RemoteRestart?)null), (retry.Attempt, retry.RunId, retry.AfterRestart));

        var effects = after.Handle(new RunFailed(retry.Key, retry.Generation, retry.Attempt, "no marker within run_timeout 1h after the activation", Retry: true, after.Now));
        Assert.Equal(RunState.Failed, after.Run("r", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, after.Run("c", "20190312").State);
        Assert.Single(effects.OfType<SchedulerEffect.SendAlert>());
    }

    [Fact]
    public void With_resend_a_restart_sends_exactly_the_same_attempt_again_with_equal_placeholders()
    {
        var before = InFlight(RemoteRestart.Resend, out var first);

        var after = Restart(before, TimeSpan.FromMinutes(20));
        var effects = after.Started();

        var again = Assert.Single(Harness.StartsIn(effects));
        Assert.Equal(["r 20190312 resent"], Harness.EventsIn(effects));
        Assert.Equal(RemoteRestart.Resend, again.AfterRestart);
        Assert.Equal((first.Key, first.Generation, first.Attempt, first.RunId), (again.Key, again.Generation, again.Attempt, again.RunId));
        Assert.Equal(first.Values.OrderBy(kv => kv.Key), again.Values.OrderBy(kv => kv.Key));
        Assert.Equal(first.Params, again.Params);
        Assert.Equal(first.StartedAt, again.StartedAt);
        Assert.Equal(1, after.Run("r", "20190312").Attempt);
    }

    [Theory]
    [InlineData(RemoteRestart.Wait)]
    [InlineData(RemoteRestart.Resend)]
    public void Several_restarts_keep_the_same_attempt_and_its_recorded_start(RemoteRestart onRestart)
    {
        var h = InFlight(onRestart, out var first);
        for (var i = 0; i < 4; i++)
        {
            h = Restart(h, TimeSpan.FromMinutes(5));
            var start = Assert.Single(Harness.StartsIn(h.Started()));
            Assert.Equal((first.Attempt, first.RunId, first.StartedAt), (start.Attempt, start.RunId, start.StartedAt));
        }

        Assert.Equal(1, h.Run("r", "20190312").Attempt);
        Assert.Equal(first.StartedAt, h.Run("r", "20190312").StartedAt);
    }

    [Fact]
    public void A_taken_over_attempt_keeps_its_max_parallel_slot()
    {
        var h = new Harness(Job("a"), Remote("r", RemoteRestart.Wait, "a") with { MaxParallel = 1 });
        h.Marker("a", "20190312");
        h.Marker("a", "20190313");
        Assert.Equal(RunState.Queued, h.Run("r", "20190313").State);

        var after = Restart(h, TimeSpan.FromMinutes(1));
        var starts = Harness.StartsIn(after.Started());

        Assert.Equal([Key("r", "20190312")], starts.Select(a => a.Key));
        Assert.Equal(RunState.Queued, after.Run("r", "20190313").State);

        // The marker ends the run; the waiting attempt then ends (as exit 0) and frees the slot.
        Assert.Empty(Harness.StartsIn(after.Marker("r", "20190312")));
        Assert.Equal([Key("r", "20190313")], Harness.StartsIn(after.Exit("r", "20190312", 0)).Select(a => a.Key));
    }

    [Fact]
    public void A_command_run_in_flight_is_still_queued_again_as_a_new_attempt()
    {
        var h = new Harness(Job("a"), Job("b", "a"), Remote("r", RemoteRestart.Wait, "a"));
        h.Marker("a", "20190312");

        var after = Restart(h, TimeSpan.FromMinutes(1));
        var effects = after.Started();

        Assert.Equal(["b 20190312 interrupted", "r 20190312 resumed", "b 20190312 started"], Harness.EventsIn(effects));
        Assert.Equal(2, after.Run("b", "20190312").Attempt);
        Assert.Equal(1, after.Run("r", "20190312").Attempt);
    }

    [Fact]
    public void A_remote_marker_found_by_the_start_up_rescan_ends_the_run_without_any_activation()
    {
        var h = InFlight(RemoteRestart.Resend, out _);
        var after = new Harness(h.Scheduler.Pipeline, new SchedulerOptions { HoldUntilStarted = true }, h.Scheduler.Runs.ToList());

        after.Handle(new MarkersObserved([new ObservedMarker(Key("r", "20190312"), Cascade.Core.Markers.MarkerBody.Empty, null)], after.Now));
        var effects = after.Started();

        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));
        Assert.Equal(RunState.Succeeded, after.Run("r", "20190312").State);
    }

    [Fact]
    public void The_core_stays_deterministic_over_a_take_over()
    {
        static IReadOnlyList<string> Play()
        {
            var after = Restart(InFlight(RemoteRestart.Resend, out _), TimeSpan.FromMinutes(3));
            return [.. after.Started().Select(e => e.ToString())];
        }

        Assert.Equal(Play(), Play());
    }
}
