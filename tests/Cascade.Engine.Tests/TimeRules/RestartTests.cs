using Cascade.Core.Scheduling;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// The last tick handled is a cursor committed with the runs it queued: a scheduler rebuilt from
/// the committed runs and cursors never ticks a partition twice, whenever it starts again.
/// </summary>
public sealed class RestartTests
{
    private const string Nightly = """
        jobs:
          player_entry:
            schedule: "0 2 * * *"
            partition_offset: -1
            start: 2019-03-10
            run: { command: [player_entry, "{date}"] }
          sessions:
            after: [player_entry]
            run: { command: [sessions, "{date}"] }
        """;

    private const string NightlyWithoutStart = """
        jobs:
          player_entry:
            schedule: "0 2 * * *"
            partition_offset: -1
            run: { command: [player_entry, "{date}"] }
        """;

    private static TimeHarness CaughtUpAndDone()
    {
        var h = new TimeHarness(Nightly);
        h.Started(Utc("2019-03-13T03:00"));
        foreach (var day in new[] { "20190310", "20190311", "20190312" })
        {
            h.Exit("player_entry", day, 0, Utc("2019-03-13T03:10"));
            h.Exit("sessions", day, 0, Utc("2019-03-13T03:20"));
        }

        Assert.Equal(6, h.Starts.Count);
        Assert.True(h.Cursors.ContainsKey("schedule:player_entry"));
        return h;
    }

    [Fact]
    public void A_restart_at_the_same_time_queues_and_starts_nothing_again()
    {
        var h = CaughtUpAndDone();

        h.Restart();
        var effects = h.Started(Utc("2019-03-13T03:20"));

        AssertNothingHappened(effects);
        Assert.Equal(6, h.Starts.Count);
    }

    [Fact]
    public void A_restart_at_the_exact_time_of_the_handled_tick_does_not_run_it_again()
    {
        var h = new TimeHarness(NightlyWithoutStart);
        h.Started(Utc("2019-03-13T01:00"));
        h.Time(Utc("2019-03-13T02:00"));
        h.Exit("player_entry", "20190312", 0, Utc("2019-03-13T02:00"));
        var before = h.Starts.Count;

        h.Restart();
        AssertNothingHappened(h.Started(Utc("2019-03-13T02:00")));
        h.Restart();
        AssertNothingHappened(h.Time(Utc("2019-03-13T02:00")));

        Assert.Equal(before, h.Starts.Count);
    }

    [Fact]
    public void A_restart_later_the_same_day_and_again_after_the_next_tick_queues_only_the_new_partition()
    {
        var h = CaughtUpAndDone();

        h.Restart();
        AssertNothingHappened(h.Started(Utc("2019-03-13T09:00")));
        AssertNothingHappened(h.Time(Utc("2019-03-14T01:59:59")));
        h.Restart();
        var effects = h.Started(Utc("2019-03-14T02:30"));

        Assert.Equal(["player_entry 20190313"], QueuedIn(effects));
        Assert.Equal(["player_entry 20190313"], StartedIn(effects));
        Assert.Equal(7, h.Starts.Count);
        Assert.Single(h.Starts, s => s.Key == Key("player_entry", "20190313"));
    }

    [Fact]
    public void Many_restarts_and_time_inputs_give_the_same_runs_as_one_uninterrupted_scheduler()
    {
        var steady = new TimeHarness(Nightly);
        var restarted = new TimeHarness(Nightly);
        steady.Started(Utc("2019-03-13T03:00"));
        restarted.Started(Utc("2019-03-13T03:00"));

        for (var t = Utc("2019-03-13T03:00"); t <= Utc("2019-03-17T03:00"); t += TimeSpan.FromHours(5))
        {
            steady.Time(t);
            restarted.Restart();
            restarted.Started(t);
            restarted.Time(t);
        }

        var expected = steady.Starts.Select(s => s.Key).ToList();
        Assert.Equal(7, expected.Count); // 20190310 … 20190316
        Assert.Equal(expected, restarted.Starts.Where(s => s.Attempt == 1).Select(s => s.Key));
        Assert.All(restarted.Stored.Values, r => Assert.Equal("schedule", r.Cause));
    }

    [Fact]
    public void A_run_in_flight_at_the_restart_is_queued_again_as_interrupted_not_ticked_again()
    {
        var h = new TimeHarness(NightlyWithoutStart);
        h.Started(Utc("2019-03-12T12:00"));
        h.Time(Utc("2019-03-13T02:00"));
        var run = h.Run("player_entry", "20190312");
        Assert.Equal(RunState.Running, run.State);

        h.Restart();
        var effects = h.Started(Utc("2019-03-13T02:05"));

        Assert.Empty(QueuedIn(effects));
        Assert.Equal(["player_entry 20190312 interrupted", "player_entry 20190312 started"], effects.OfType<RunChanged>().Select(c => $"{c.Run.Key} {c.Event}"));
        Assert.Equal(["player_entry 20190312"], StartedIn(effects));
        Assert.Equal(2, h.Run("player_entry", "20190312").Attempt);
    }

    [Fact]
    public void A_wait_deadline_that_passed_while_the_scheduler_was_down_is_judged_when_it_starts_again()
    {
        var h = new TimeHarness("""
            jobs:
              a: { run: external }
              b: { run: external }
              c:
                after: [a, b]
                wait_timeout: 2h
                run: { command: [c] }
            """);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T03:00"));

        h.Restart();
        var effects = h.Started(Utc("2019-03-13T09:00"));

        Assert.Equal(RunState.TimedOut, h.Run("c", "20190312").State);
        Assert.Equal(AlertKind.TimedOut, Assert.Single(AlertsIn(effects)).Kind);
    }

    [Fact]
    public void A_retry_due_while_the_scheduler_was_down_starts_when_it_starts_again()
    {
        var h = new TimeHarness("""
            jobs:
              flaky:
                retries: 1
                retry_backoff: 10m
                run: { command: [flaky] }
            """);
        h.Started(Utc("2019-03-13T01:00"));
        h.Trigger("flaky", "20190312", Utc("2019-03-13T01:00"));
        h.Exit("flaky", "20190312", 1, Utc("2019-03-13T01:05"));

        h.Restart();
        Assert.Equal(Utc("2019-03-13T01:15"), h.Scheduler.NextWakeAt);
        var effects = h.Started(Utc("2019-03-13T02:00"));

        Assert.Equal(["flaky 20190312"], StartedIn(effects));
        Assert.Equal(2, h.Run("flaky", "20190312").Attempt);
    }
}
