using Cascade.Core.Scheduling;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §2–3: partitions are days or hours in the pipeline's <c>timezone</c>; a daily tick happens
/// once a day across daylight-saving changes (Europe/Berlin: 2019-03-31 02:00 → 03:00 and
/// 2019-10-27 03:00 → 02:00).
/// </summary>
public sealed class DaylightSavingTests
{
    private const string BerlinNightly = """
        timezone: Europe/Berlin
        jobs:
          player_entry:
            schedule: "30 2 * * *"
            partition_offset: -1
            run: { command: [player_entry, "{date}"] }
        """;

    private static List<(string Partition, DateTimeOffset QueuedAt)> QueuedWithTimes(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<RunChanged>().Where(c => c.Event == "queued").Select(c => (c.Run.Key.Partition.Key, c.Run.QueuedAt!.Value))];

    [Fact]
    public void Across_the_spring_forward_a_daily_tick_in_the_skipped_hour_runs_once_right_after_the_change()
    {
        var h = new TimeHarness(BerlinNightly);
        h.Started(Utc("2019-03-29T12:00"));

        var effects = h.Tick(Utc("2019-03-29T12:00"), Utc("2019-04-02T12:00"), TimeSpan.FromMinutes(15));

        Assert.Equal(
            [
                ("20190329", Utc("2019-03-30T01:30")), // 02:30 CET
                ("20190330", Utc("2019-03-31T01:00")), // 02:30 does not exist: 03:00 CEST
                ("20190331", Utc("2019-04-01T00:30")), // 02:30 CEST
                ("20190401", Utc("2019-04-02T00:30")),
            ],
            QueuedWithTimes(effects));
    }

    [Fact]
    public void Across_the_fall_back_a_daily_tick_in_the_repeated_hour_runs_once()
    {
        var h = new TimeHarness(BerlinNightly);
        h.Started(Utc("2019-10-25T12:00"));

        var effects = h.Tick(Utc("2019-10-25T12:00"), Utc("2019-10-29T12:00"), TimeSpan.FromMinutes(15));

        var queued = QueuedWithTimes(effects);
        Assert.Equal(["20191025", "20191026", "20191027", "20191028"], queued.Select(q => q.Partition));
        Assert.Equal(Utc("2019-10-26T00:30"), queued[0].QueuedAt); // 02:30 CEST
        Assert.Contains(queued[1].QueuedAt, new[] { Utc("2019-10-27T00:30"), Utc("2019-10-27T01:30") }); // one of the two 02:30s
        Assert.Equal(Utc("2019-10-28T01:30"), queued[2].QueuedAt); // 02:30 CET
        Assert.Equal(4, h.Starts.Count);
    }

    [Fact]
    public void A_tick_just_after_local_midnight_runs_the_local_day_not_the_utc_day()
    {
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              early:
                schedule: "30 0 * * *"
                run: { command: [early, "{date}"] }
            """);
        h.Started(Utc("2019-03-12T12:00"));

        var effects = h.Time(Utc("2019-03-12T23:30")); // 00:30 CET on the 13th

        Assert.Equal(["early 20190313"], QueuedIn(effects));
        Assert.Equal("2019-03-13", Assert.Single(h.Starts).Argv[1]);
    }

    [Fact]
    public void An_hourly_job_skips_the_missing_local_hour_on_the_spring_forward_day()
    {
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              payments:
                grain: hourly
                schedule: "0 * * * *"
                run: { command: [payments, "{hour}"] }
            """);
        h.Started(Utc("2019-03-30T22:30"));

        var effects = h.Tick(Utc("2019-03-30T22:30"), Utc("2019-03-31T03:30"), TimeSpan.FromMinutes(30));

        Assert.Equal(
            ["payments 2019033100", "payments 2019033101", "payments 2019033103", "payments 2019033104", "payments 2019033105"],
            QueuedIn(effects));
    }

    [Fact]
    public void An_hourly_job_runs_the_repeated_local_hour_once_on_the_fall_back_day()
    {
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              payments:
                grain: hourly
                schedule: "0 * * * *"
                run: { command: [payments, "{hour}"] }
            """);
        h.Started(Utc("2019-10-26T21:30"));

        var effects = h.Tick(Utc("2019-10-26T21:30"), Utc("2019-10-27T03:30"), TimeSpan.FromMinutes(30));

        Assert.Equal(
            ["payments 2019102700", "payments 2019102701", "payments 2019102702", "payments 2019102703", "payments 2019102704"],
            QueuedIn(effects));
        Assert.Equal(5, h.Starts.Count);
    }

    [Fact]
    public void Catch_up_over_a_daylight_saving_change_queues_each_local_day_once()
    {
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              player_entry:
                schedule: "30 2 * * *"
                partition_offset: -1
                start: 2019-03-29
                run: { command: [player_entry, "{date}"] }
            """);

        var effects = h.Started(Utc("2019-04-02T06:00"));

        Assert.Equal(
            ["player_entry 20190329", "player_entry 20190330", "player_entry 20190331", "player_entry 20190401"],
            QueuedIn(effects));
    }
}
