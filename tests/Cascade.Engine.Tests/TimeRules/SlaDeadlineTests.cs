using Cascade.Core.Scheduling;
using static Cascade.Engine.Tests.TimeRules.TimeHarness;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// SPEC §4: <c>deadline: "06:00"</c> alerts once when a run is not succeeded by that time after its
/// partition ends, and once more when it succeeds later.
/// </summary>
public sealed class SlaDeadlineTests
{
    private const string Revenue = """
        jobs:
          revenue:
            deadline: "06:00"
            run: { command: [revenue, "{date}"] }
        """;

    private static TimeHarness SeenAtOne()
    {
        var h = new TimeHarness(Revenue);
        AssertNothingHappened(h.Started(Utc("2019-03-13T01:00")));
        return h;
    }

    [Fact]
    public void A_run_not_succeeded_by_partition_end_plus_six_hours_raises_exactly_one_deadline_missed_alert()
    {
        var h = SeenAtOne();
        Assert.Equal(Utc("2019-03-13T06:00"), h.Scheduler.NextWakeAt);

        AssertNothingHappened(h.Time(Utc("2019-03-13T06:00").AddTicks(-1)));
        var effects = h.Time(Utc("2019-03-13T06:00"));

        var alert = Assert.Single(AlertsIn(effects));
        Assert.Equal(AlertKind.DeadlineMissed, alert.Kind);
        Assert.Equal(Key("revenue", "20190312"), alert.Key);
        Assert.Contains("2019-03-13 06:00Z", alert.Summary, StringComparison.Ordinal);
        Assert.Contains(Key("revenue", "20190312"), h.Scheduler.SlaMisses);
    }

    [Fact]
    public void A_deadline_miss_is_not_repeated_on_later_time_inputs_and_the_next_day_alerts_on_its_own()
    {
        var h = SeenAtOne();
        h.Time(Utc("2019-03-13T06:00"));

        var later = h.Tick(Utc("2019-03-13T06:30"), Utc("2019-03-14T05:30"), TimeSpan.FromMinutes(30));
        var nextDay = h.Time(Utc("2019-03-14T06:00"));

        Assert.Empty(AlertsIn(later));
        Assert.Equal(Key("revenue", "20190313"), Assert.Single(AlertsIn(nextDay)).Key);
        Assert.Equal(2, h.Alerts.Count);
    }

    [Fact]
    public void A_run_that_succeeds_after_its_deadline_raises_one_deadline_recovered_alert()
    {
        var h = SeenAtOne();
        h.Time(Utc("2019-03-13T06:00"));
        h.Trigger("revenue", "20190312", Utc("2019-03-13T08:00"));

        var effects = h.Exit("revenue", "20190312", 0, Utc("2019-03-13T08:30"));
        var after = h.Time(Utc("2019-03-13T09:00"));

        var alert = Assert.Single(AlertsIn(effects));
        Assert.Equal(AlertKind.DeadlineRecovered, alert.Kind);
        Assert.Equal(Key("revenue", "20190312"), alert.Key);
        Assert.Contains("2h30m after its deadline", alert.Summary, StringComparison.Ordinal);
        Assert.Empty(h.Scheduler.SlaMisses);
        AssertNothingHappened(after);
        Assert.Equal([AlertKind.DeadlineMissed, AlertKind.DeadlineRecovered], h.Alerts.Select(a => a.Kind));
    }

    [Fact]
    public void A_run_that_succeeds_before_its_deadline_raises_no_alert()
    {
        var h = SeenAtOne();
        h.Trigger("revenue", "20190312", Utc("2019-03-13T02:00"));
        h.Exit("revenue", "20190312", 0, Utc("2019-03-13T05:59"));

        h.Time(Utc("2019-03-13T06:00"));
        h.Time(Utc("2019-03-13T12:00"));

        Assert.Empty(h.Alerts);
    }

    [Fact]
    public void Deadlines_already_past_at_first_sight_are_not_reported()
    {
        var h = new TimeHarness(Revenue);

        var effects = h.Started(Utc("2019-03-20T12:00"));

        Assert.Empty(AlertsIn(effects));
        Assert.Equal("20190319", h.Cursors["sla:revenue"]);
        Assert.Equal(Utc("2019-03-21T06:00"), h.Scheduler.NextWakeAt);
    }

    [Fact]
    public void After_a_restart_an_open_miss_is_not_repeated_and_still_recovers()
    {
        var h = SeenAtOne();
        h.Time(Utc("2019-03-13T06:00"));
        Assert.True(h.Cursors.ContainsKey("sla-miss:revenue:20190312"));

        h.Restart();
        var onStart = h.Started(Utc("2019-03-13T07:00"));
        h.Trigger("revenue", "20190312", Utc("2019-03-13T07:00"));
        var onSuccess = h.Exit("revenue", "20190312", 0, Utc("2019-03-13T07:30"));

        Assert.Empty(AlertsIn(onStart));
        Assert.Equal(AlertKind.DeadlineRecovered, Assert.Single(AlertsIn(onSuccess)).Kind);
        Assert.False(h.Cursors.ContainsKey("sla-miss:revenue:20190312"));
    }

    [Fact]
    public void A_deadline_given_as_a_duration_counts_from_the_end_of_the_partition()
    {
        var h = new TimeHarness("""
            jobs:
              revenue:
                deadline: 90m
                run: { command: [revenue] }
            """);
        h.Started(Utc("2019-03-13T01:00"));

        AssertNothingHappened(h.Time(Utc("2019-03-13T01:29:59")));
        var effects = h.Time(Utc("2019-03-13T01:30"));

        Assert.Equal(AlertKind.DeadlineMissed, Assert.Single(AlertsIn(effects)).Kind);
    }

    [Fact]
    public void A_waiting_run_that_misses_its_deadline_names_its_missing_inputs()
    {
        var h = new TimeHarness("""
            jobs:
              a: { run: external }
              b: { run: external }
              report:
                after: [a, b]
                deadline: "06:00"
                run: { command: [report] }
            """);
        h.Started(Utc("2019-03-13T01:00"));
        h.Marker("a", "20190312", Utc("2019-03-13T02:00"));

        var alert = Assert.Single(AlertsIn(h.Time(Utc("2019-03-13T06:00"))));

        Assert.Equal(["b 20190312"], alert.MissingInputs);
        Assert.Contains("waiting", alert.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void In_Berlin_the_deadline_is_six_oclock_local_time_after_the_local_day_across_the_spring_forward()
    {
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              revenue:
                deadline: "06:00"
                run: { command: [revenue] }
            """);
        h.Started(Utc("2019-03-30T12:00"));

        // 20190330 ends at local midnight (CET); 06:00 on the 31st is already CEST: 04:00Z.
        AssertNothingHappened(h.Time(Utc("2019-03-31T03:59:59")));
        var alert = Assert.Single(AlertsIn(h.Time(Utc("2019-03-31T04:00"))));

        Assert.Equal(Key("revenue", "20190330"), alert.Key);
    }

    [Fact]
    public void The_deadline_missed_summary_states_the_deadline_in_utc()
    {
        // Regression: MissDeadline formatted the zone-local deadline as "HH:mm" and appended "Z", so in
        // Berlin the deadline 2019-03-31 06:00+02:00 was reported as "06:00Z" (that is 08:00 local).
        var h = new TimeHarness("""
            timezone: Europe/Berlin
            jobs:
              revenue:
                deadline: "06:00"
                run: { command: [revenue] }
            """);
        h.Started(Utc("2019-03-30T12:00"));

        var alert = Assert.Single(AlertsIn(h.Time(Utc("2019-03-31T04:00"))));

        Assert.Contains("missed its deadline 2019-03-31 04:00Z", alert.Summary, StringComparison.Ordinal);
    }
}
