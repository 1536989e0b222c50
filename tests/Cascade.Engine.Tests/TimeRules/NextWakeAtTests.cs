using Cascade.Core.Scheduling;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// <see cref="Scheduler.NextWakeAt"/> is when the engine must next send <c>TimePassed</c>: the
/// earliest of the next retry, wait deadline, cron tick and SLA deadline.
/// </summary>
public sealed class NextWakeAtTests
{
    private const string EveryTimeRule = """
        jobs:
          ticker:
            schedule: "0 2 * * *"
            partition_offset: -1
            run: { command: [ticker] }
          flaky:
            retries: 1
            retry_backoff: 5m
            run: { command: [flaky] }
          x: { run: external }
          y: { run: external }
          joined:
            after: [x, y]
            wait_timeout: 1h
            run: { command: [joined] }
          report:
            deadline: "01:00"
            run: external
        """;

    [Fact]
    public void Next_wake_points_at_the_earliest_of_retry_wait_deadline_next_tick_and_sla_deadline()
    {
        var h = new TimeHarness(EveryTimeRule);

        h.Started(Utc("2019-03-13T00:30"));
        Assert.Equal(Utc("2019-03-13T01:00"), h.Scheduler.NextWakeAt); // SLA of report 20190312 (tick at 02:00)

        h.Marker("x", "20190312", Utc("2019-03-13T00:40"));
        Assert.Equal(Utc("2019-03-13T01:40"), h.Run("joined", "20190312").WaitDeadline);
        Assert.Equal(Utc("2019-03-13T01:00"), h.Scheduler.NextWakeAt); // still the SLA

        h.Trigger("flaky", "20190312", Utc("2019-03-13T00:45"));
        h.Exit("flaky", "20190312", 1, Utc("2019-03-13T00:50"));
        Assert.Equal(Utc("2019-03-13T00:55"), h.Scheduler.NextWakeAt); // the retry

        Assert.Equal(["flaky 20190312"], StartedIn(h.Time(Utc("2019-03-13T00:55"))));
        h.Exit("flaky", "20190312", 0, Utc("2019-03-13T00:58"));
        Assert.Equal(Utc("2019-03-13T01:00"), h.Scheduler.NextWakeAt); // the SLA again

        Assert.Equal(AlertKind.DeadlineMissed, Assert.Single(AlertsIn(h.Time(Utc("2019-03-13T01:00")))).Kind);
        Assert.Equal(Utc("2019-03-13T01:40"), h.Scheduler.NextWakeAt); // the wait deadline

        Assert.Equal(AlertKind.TimedOut, Assert.Single(AlertsIn(h.Time(Utc("2019-03-13T01:40")))).Kind);
        Assert.Equal(Utc("2019-03-13T02:00"), h.Scheduler.NextWakeAt); // the next tick

        Assert.Equal(["ticker 20190312"], StartedIn(h.Time(Utc("2019-03-13T02:00"))));
        Assert.Equal(Utc("2019-03-14T01:00"), h.Scheduler.NextWakeAt); // tomorrow's SLA before tomorrow's tick
    }

    [Fact]
    public void Without_schedules_timeouts_retries_or_deadlines_there_is_nothing_to_wake_for()
    {
        var h = new TimeHarness("""
            jobs:
              a: { run: external }
              b:
                after: [a]
                run: { command: [b] }
            """);

        h.Started(Utc("2019-03-13T00:30"));
        h.Marker("a", "20190312", Utc("2019-03-13T00:40"));

        Assert.Null(h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void After_a_restart_next_wake_comes_from_the_restored_cursors_and_runs()
    {
        var h = new TimeHarness(EveryTimeRule);
        h.Started(Utc("2019-03-13T00:30"));
        h.Marker("x", "20190312", Utc("2019-03-13T00:40"));
        h.Time(Utc("2019-03-13T01:00"));

        h.Restart();

        Assert.Equal(Utc("2019-03-13T01:40"), h.Scheduler.NextWakeAt);
    }
}
