using System.Globalization;
using Cascade.Core.Scheduling;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §3: missed ticks since <c>start</c> (or since the last tick handled) are caught up oldest
/// first; <c>catchup: false</c> runs only the latest.
/// </summary>
public sealed class CatchupTests
{
    private static string Nightly(string extra = "", string maxParallel = "") => $$"""
        jobs:
          player_entry:
            schedule: "0 2 * * *"
            partition_offset: -1
            start: 2019-03-01
            {{extra}}
            {{maxParallel}}
            run: { command: [player_entry, "{date}"] }
        """;

    /// <summary>A store whose last handled tick is the 10th, 02:00 (partition 20190309): three days of downtime before the 13th.</summary>
    private static TimeHarness ThreeDaysDown(string yaml)
    {
        var lastTick = Utc("2019-03-10T02:00").ToString("O", CultureInfo.InvariantCulture);
        var done = new Run
        {
            Key = Key("player_entry", "20190309"),
            CreatedAt = Utc("2019-03-10T02:00"),
            State = RunState.Succeeded,
            Cause = "schedule",
            Attempt = 1,
            FinishedAt = Utc("2019-03-10T02:10"),
        };
        return new TimeHarness(Load(yaml), null, new SchedulerSnapshot([done], new Dictionary<string, string> { ["schedule:player_entry"] = lastTick }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void After_three_days_down_the_three_missed_partitions_are_queued_oldest_first(bool viaStarted)
    {
        var h = ThreeDaysDown(Nightly());
        var now = Utc("2019-03-13T02:30");

        var effects = h.Handle(viaStarted ? new SchedulerStarted(now) : new TimePassed(now));

        string[] missed = ["player_entry 20190310", "player_entry 20190311", "player_entry 20190312"];
        Assert.Equal(missed, QueuedIn(effects));
        Assert.Equal(missed, StartedIn(effects));
        Assert.All(missed, k => Assert.Equal("schedule", h.Scheduler.Runs.Single(r => r.Key.ToString() == k).Cause));
        Assert.Empty(WarningsIn(effects));
        Assert.Equal(Utc("2019-03-13T02:00"), DateTimeOffset.Parse(h.Cursors["schedule:player_entry"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void With_catchup_false_only_the_latest_missed_partition_is_queued_and_a_warning_says_how_many_were_skipped()
    {
        var h = ThreeDaysDown(Nightly("catchup: false"));

        var effects = h.Started(Utc("2019-03-13T02:30"));

        Assert.Equal(["player_entry 20190312"], QueuedIn(effects));
        var warning = Assert.Single(WarningsIn(effects));
        Assert.StartsWith("player_entry:", warning, StringComparison.Ordinal);
        Assert.Contains("2 missed tick(s) not caught up (catchup: false)", warning, StringComparison.Ordinal);
        Assert.Null(h.Find("player_entry", "20190310"));
        Assert.Null(h.Find("player_entry", "20190311"));
        Assert.Equal(Utc("2019-03-13T02:00"), DateTimeOffset.Parse(h.Cursors["schedule:player_entry"], CultureInfo.InvariantCulture));
    }

    private const string NoStart = """
        jobs:
          player_entry:
            schedule: "0 2 * * *"
            partition_offset: -1
            run: { command: [player_entry, "{date}"] }
        """;

    [Fact]
    public void Without_start_a_first_sight_exactly_at_a_tick_runs_that_tick()
    {
        var h = new TimeHarness(NoStart);

        var effects = h.Started(Utc("2019-03-13T02:00"));

        Assert.Equal(["player_entry 20190312"], QueuedIn(effects));
        Assert.Empty(QueuedIn(h.Handle(new TimePassed(Utc("2019-03-13T02:00")))));
        Assert.Equal(["player_entry 20190313"], QueuedIn(h.Handle(new TimePassed(Utc("2019-03-14T02:00")))));
    }

    [Fact]
    public void Without_start_a_first_sight_just_after_a_tick_does_not_catch_it_up()
    {
        var h = new TimeHarness(NoStart);

        Assert.Empty(QueuedIn(h.Started(Utc("2019-03-13T02:00:00.001"))));
        Assert.Empty(QueuedIn(h.Handle(new TimePassed(Utc("2019-03-14T01:59:59.999")))));
        Assert.Equal(["player_entry 20190313"], QueuedIn(h.Handle(new TimePassed(Utc("2019-03-14T02:00")))));
    }

    [Fact]
    public void Catch_up_starts_the_oldest_partition_first_within_max_parallel()
    {
        var h = ThreeDaysDown(Nightly(maxParallel: "max_parallel: 1"));

        var effects = h.Started(Utc("2019-03-13T02:30"));

        Assert.Equal(["player_entry 20190310"], StartedIn(effects));
        Assert.Equal(["player_entry 20190311"], StartedIn(h.Exit("player_entry", "20190310", 0, Utc("2019-03-13T02:40"))));
        Assert.Equal(["player_entry 20190312"], StartedIn(h.Exit("player_entry", "20190311", 0, Utc("2019-03-13T02:50"))));
    }

    [Fact]
    public void A_root_with_start_and_no_cursor_catches_up_from_its_start_partition()
    {
        var h = new TimeHarness("""
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                start: 2019-03-10
                run: { command: [player_entry, "{date}"] }
            """);

        var effects = h.Started(Utc("2019-03-13T03:00"));

        Assert.Equal(["player_entry 20190310", "player_entry 20190311", "player_entry 20190312"], QueuedIn(effects));
        Assert.Null(h.Find("player_entry", "20190309"));
        Assert.Equal(Utc("2019-03-14T02:00"), h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void A_root_with_start_and_no_cursor_skips_partitions_that_already_have_a_run()
    {
        var pipeline = Load("""
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                start: 2019-03-10
                run: { command: [player_entry, "{date}"] }
            """);
        var done = new Run { Key = Key("player_entry", "20190310"), CreatedAt = Utc("2019-03-11T02:00"), State = RunState.Succeeded, Attempt = 1 };
        var h = new TimeHarness(pipeline, null, new SchedulerSnapshot([done], new Dictionary<string, string>()));

        var effects = h.Started(Utc("2019-03-13T03:00"));

        Assert.Equal(["player_entry 20190311", "player_entry 20190312"], QueuedIn(effects));
    }

    [Fact]
    public void A_root_with_start_no_cursor_and_catchup_false_runs_only_the_latest_partition()
    {
        var h = new TimeHarness("""
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                start: 2019-03-10
                catchup: false
                run: { command: [player_entry, "{date}"] }
            """);

        var effects = h.Started(Utc("2019-03-13T03:00"));

        Assert.Equal(["player_entry 20190312"], QueuedIn(effects));
        Assert.Contains("missed tick(s) not caught up (catchup: false)", Assert.Single(WarningsIn(effects)), StringComparison.Ordinal);
        Assert.Null(h.Find("player_entry", "20190310"));
        Assert.Null(h.Find("player_entry", "20190311"));
    }

    [Fact]
    public void BUG_the_catchup_false_warning_counts_a_tick_whose_partition_is_before_start()
    {
        // With start 2019-03-10 and offset -1, the ticks of the 11th and 12th (partitions 20190310
        // and 20190311) were skipped. InitialTickCursor starts from midnight of the start day, so the
        // tick of the 10th (partition 20190309, before start, never due) is counted too: "3 missed".
        var h = new TimeHarness("""
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                start: 2019-03-10
                catchup: false
                run: { command: [player_entry, "{date}"] }
            """);

        var effects = h.Started(Utc("2019-03-13T03:00"));

        Assert.Contains("player_entry: 2 missed tick(s) not caught up", Assert.Single(WarningsIn(effects)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_catch_up_longer_than_one_step_asks_to_be_woken_at_once_and_loses_no_partition()
    {
        var h = new TimeHarness("""
            jobs:
              payments:
                grain: hourly
                schedule: "0 * * * *"
                start: 2018-01-01
                run: { command: [payments, "{partition}"] }
            """);
        var now = Utc("2019-03-13T05:30");

        h.Started(now);
        Assert.True(h.Scheduler.NextWakeAt <= now, "the rest of the catch-up is due at once");
        h.Time(now);

        var expected = (int)(Utc("2019-03-13T05:00") - Utc("2018-01-01T00:00")).TotalHours + 1;
        Assert.True(expected > 10_000);
        Assert.Equal(expected, h.Starts.Count);
        Assert.Equal(expected, h.Starts.Select(s => s.Key).Distinct().Count());
        Assert.Equal(Key("payments", "2018010100"), h.Starts[0].Key);
        Assert.Equal(Key("payments", "2019031305"), h.Starts[^1].Key);
        Assert.Equal(Utc("2019-03-13T06:00"), h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void Catchup_false_runs_only_the_latest_tick_even_after_more_than_ten_thousand_missed_ticks()
    {
        // Regression: the tick loop stopped at MaxTicksPerStep (10,000), so catchup: false ran the
        // 10,000th tick (payments 2018022115) as "the latest", and the next step ran another one.
        var h = new TimeHarness("""
            jobs:
              payments:
                grain: hourly
                schedule: "0 * * * *"
                start: 2017-01-01
                catchup: false
                run: { command: [payments, "{partition}"] }
            """);
        var now = Utc("2019-03-13T05:30");

        var warnings = WarningsIn(h.Started(now));
        h.Time(now);

        Assert.Contains("over 10000 missed tick(s) not caught up", Assert.Single(warnings), StringComparison.Ordinal);
        var run = Assert.Single(h.Scheduler.Runs);
        Assert.Equal(Key("payments", "2019031305"), run.Key);
        Assert.Single(h.Starts);
    }

    [Fact]
    public void Catchup_false_in_a_daylight_saving_zone_runs_the_latest_local_day_and_counts_the_skipped_ticks()
    {
        var pipeline = Load("""
            timezone: Europe/Berlin
            jobs:
              player_entry:
                schedule: "30 2 * * *"
                partition_offset: -1
                catchup: false
                run: { command: [player_entry, "{date}"] }
            """);
        var lastTick = "2019-03-29T02:30:00.0000000+01:00"; // as Cronos gives it: local time with the zone's offset
        var h = new TimeHarness(pipeline, null, new SchedulerSnapshot([], new Dictionary<string, string> { ["schedule:player_entry"] = lastTick }));

        var effects = h.Started(Utc("2019-04-02T06:00")); // ticks on the 30th, 31st (03:00 CEST), 1st and 2nd

        Assert.Equal(["player_entry 20190401"], QueuedIn(effects));
        Assert.Contains("player_entry: 3 missed tick(s) not caught up", Assert.Single(WarningsIn(effects)), StringComparison.Ordinal);
        Assert.Equal(Utc("2019-04-02T00:30"), DateTimeOffset.Parse(h.Cursors["schedule:player_entry"], CultureInfo.InvariantCulture));
    }
}
