using System.Globalization;
using Cascade.Core.Scheduling;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>SPEC §3: a root's cron tick at T runs the partition containing T, moved by <c>partition_offset</c>.</summary>
public sealed class CronTickTests
{
    private const string NightlyRoot = """
        jobs:
          player_entry:
            schedule: "0 2 * * *"
            partition_offset: -1
            run: { command: [python3, jobs/player_entry.py, --date, "{date}"] }
        """;

    [Fact]
    public void The_0200_tick_on_the_13th_queues_partition_20190312_with_cause_schedule()
    {
        var h = new TimeHarness(NightlyRoot);
        AssertNothingHappened(h.Started(Utc("2019-03-12T12:00")));

        AssertNothingHappened(h.Time(Utc("2019-03-13T01:59:59.9999999")));
        var effects = h.Time(Utc("2019-03-13T02:00"));

        Assert.Equal(["player_entry 20190312"], QueuedIn(effects));
        var run = h.Run("player_entry", "20190312");
        Assert.Equal("schedule", run.Cause);
        Assert.Equal(RunState.Running, run.State);
        var start = Assert.Single(h.Starts);
        Assert.Equal(["python3", "jobs/player_entry.py", "--date", "2019-03-12"], start.Argv);
        var cursor = Assert.Single(effects.OfType<CursorMoved>(), c => c.Name == "schedule:player_entry");
        Assert.Equal(Utc("2019-03-13T02:00"), DateTimeOffset.Parse(cursor.Value!, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2019-02-26T12:00", "2019-03-02T12:00", "20190226 20190227 20190228 20190301")]
    [InlineData("2020-02-27T12:00", "2020-03-02T12:00", "20200227 20200228 20200229 20200301")]
    [InlineData("2018-12-30T12:00", "2019-01-02T12:00", "20181230 20181231 20190101")]
    public void Daily_ticks_across_month_and_year_ends_queue_each_previous_day_once_in_order(string from, string to, string expected)
    {
        var h = new TimeHarness(NightlyRoot);
        h.Started(Utc(from));

        var effects = h.Tick(Utc(from), Utc(to), TimeSpan.FromMinutes(30));

        Assert.Equal(expected.Split(' ').Select(p => $"player_entry {p}"), QueuedIn(effects));
        Assert.All(h.Starts, s => Assert.Equal(1, s.Attempt));
        Assert.All(h.Scheduler.Runs, r => Assert.Equal("schedule", r.Cause));
    }

    [Fact]
    public void A_monthly_tick_with_offset_minus_one_runs_the_last_day_of_the_previous_month()
    {
        var h = new TimeHarness("""
            jobs:
              month_close:
                schedule: "0 2 1 * *"
                partition_offset: -1
                run: { command: [close, "{date}"] }
            """);
        h.Started(Utc("2019-01-15T00:00"));

        var effects = h.Tick(Utc("2019-01-15T00:00"), Utc("2019-05-15T00:00"), TimeSpan.FromHours(6));

        Assert.Equal(
            ["month_close 20190131", "month_close 20190228", "month_close 20190331", "month_close 20190430"],
            QueuedIn(effects));
    }

    [Theory]
    [InlineData(0, "2019022822 2019022823 2019030100 2019030101 2019030102")]
    [InlineData(-1, "2019022821 2019022822 2019022823 2019030100 2019030101")]
    public void An_hourly_schedule_on_an_hourly_job_queues_one_hour_per_tick_across_midnight_and_a_month_end(int offset, string expected)
    {
        var h = new TimeHarness($$"""
            jobs:
              payments:
                grain: hourly
                schedule: "0 * * * *"
                partition_offset: {{offset}}
                run: { command: [payments, "{date}", "{hour}"] }
            """);
        h.Started(Utc("2019-02-28T21:30"));

        var effects = h.Tick(Utc("2019-02-28T21:45"), Utc("2019-03-01T02:45"), TimeSpan.FromMinutes(15));

        var partitions = expected.Split(' ');
        Assert.Equal(partitions.Select(p => $"payments {p}"), QueuedIn(effects));
        Assert.Equal(partitions.Select(p => p[8..]), h.Starts.Select(s => s.Argv[2]));
    }

    [Fact]
    public void Without_start_the_schedule_begins_at_first_sight_and_earlier_ticks_are_not_caught_up()
    {
        var h = new TimeHarness(NightlyRoot);

        AssertNothingHappened(h.Started(Utc("2019-03-13T09:00")));

        Assert.Empty(h.Scheduler.Runs);
        Assert.Equal(Utc("2019-03-14T02:00"), h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void One_late_time_input_catches_up_every_tick_it_covers_in_order()
    {
        var h = new TimeHarness(NightlyRoot);
        h.Started(Utc("2019-03-10T12:00"));

        var effects = h.Time(Utc("2019-03-13T12:00"));

        Assert.Equal(["player_entry 20190310", "player_entry 20190311", "player_entry 20190312"], QueuedIn(effects));
        Assert.Equal(["player_entry 20190310", "player_entry 20190311", "player_entry 20190312"], StartedIn(effects));
    }

    [Fact]
    public void A_tick_for_a_partition_that_already_ran_does_nothing()
    {
        var h = new TimeHarness(NightlyRoot);
        h.Started(Utc("2019-03-12T12:00"));
        h.Trigger("player_entry", "20190312", Utc("2019-03-12T13:00"));
        h.Exit("player_entry", "20190312", 0, Utc("2019-03-12T13:05"));

        var effects = h.Time(Utc("2019-03-13T02:00"));

        Assert.Empty(QueuedIn(effects));
        Assert.Single(h.Starts);
        Assert.Equal("trigger", h.Run("player_entry", "20190312").Cause);
    }
}
