using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Replay;

/// <summary>
/// <see cref="ReplayPlan"/>: the job's runs for the range, then (with downstream) every started run
/// reachable below them, breadth first, offsets and grain changes included; never upstream.
/// </summary>
public sealed class ReplayPlanTests
{
    private const string Day = "20190312";

    /// <summary>src (external) → a → {b, c} → d, and a sibling s of a.</summary>
    private static Harness SettledDiamond()
    {
        var h = new Harness(External("src"), Job("a", "src"), Job("b", "a"), Job("c", "a"), Job("d", "b", "c"), Job("s", "src"));
        h.Marker("src", Day);
        h.Settle();
        Assert.All(h.Scheduler.Runs, r => Assert.Equal(RunState.Succeeded, r.State));
        return h;
    }

    /// <summary>entry → revenue (needs yesterday's revenue too) → bi, all done for the 10th to the 13th.</summary>
    private static Harness SettledRunningTotal()
    {
        var h = new Harness(
            Job("entry") with { Start = Date("2019-03-10") },
            Job("revenue", "entry") with { After = [Dep("entry"), Dep("revenue", -1)] },
            Job("bi", "revenue"));
        foreach (var day in new[] { "20190310", "20190311", "20190312", "20190313" })
        {
            h.Marker("entry", day);
            h.Settle();
        }

        Assert.Equal(12, h.Scheduler.Runs.Count(r => r.IsDone));
        return h;
    }

    private static ReplayPlan PlanOf(Harness h, string job, string from, string? to = null, bool downstream = true, DateTimeOffset? now = null) =>
        ReplayPlan.Create(h.Scheduler.Pipeline, h.Scheduler.Get, job, P(from), P(to ?? from), downstream, now ?? h.Now);

    private static List<string> Rows(ReplayPlan plan) =>
        [.. plan.Runs.Select(r => $"{r.Key} d{r.Depth}" + (r.Because is { } b ? $" <{b}" : string.Empty))];

    [Fact]
    public void A_diamond_plans_each_run_below_the_replayed_job_once_breadth_first()
    {
        var h = SettledDiamond();

        var plan = PlanOf(h, "a", Day);

        Assert.Equal(
            ["a 20190312 d0", "b 20190312 d1 <a 20190312", "c 20190312 d1 <a 20190312", "d 20190312 d2 <b 20190312"],
            Rows(plan));
        Assert.All(plan.Runs, r => Assert.Equal((RunState.Succeeded, 1, 2), (r.Current!.Value, r.Generation, r.NextGeneration)));
        Assert.Empty(plan.Running);
    }

    [Fact]
    public void Upstream_runs_and_siblings_are_never_in_the_plan()
    {
        var h = SettledDiamond();

        var plan = PlanOf(h, "b", Day);

        Assert.Equal(["b 20190312 d0", "d 20190312 d1 <b 20190312"], Rows(plan));
    }

    [Fact]
    public void Without_downstream_the_plan_is_the_jobs_own_partitions_only()
    {
        var h = SettledDiamond();

        Assert.Equal(["a 20190312 d0"], Rows(PlanOf(h, "a", Day, downstream: false)));
    }

    [Fact]
    public void An_offset_dependency_carries_the_replay_into_every_later_partition_up_to_now()
    {
        var h = SettledRunningTotal();

        var plan = PlanOf(h, "revenue", "20190311");

        Assert.Equal(
            [
                "revenue 20190311 d0",
                "bi 20190311 d1 <revenue 20190311",
                "revenue 20190312 d1 <revenue 20190311",
                "bi 20190312 d2 <revenue 20190312",
                "revenue 20190313 d2 <revenue 20190312",
                "bi 20190313 d3 <revenue 20190313",
            ],
            Rows(plan));
    }

    [Fact]
    public void Runs_of_partitions_after_the_current_one_are_left_out_of_the_plan()
    {
        var h = SettledRunningTotal();

        var plan = PlanOf(h, "revenue", "20190311", now: new DateTimeOffset(2019, 3, 12, 10, 0, 0, TimeSpan.Zero));

        Assert.Equal(
            ["revenue 20190311 d0", "bi 20190311 d1 <revenue 20190311", "revenue 20190312 d1 <revenue 20190311", "bi 20190312 d2 <revenue 20190312"],
            Rows(plan));
    }

    [Fact]
    public void A_range_plans_every_partition_of_the_job_at_depth_zero_and_what_follows_once()
    {
        var h = SettledRunningTotal();

        var plan = PlanOf(h, "revenue", "20190310", "20190312");

        Assert.Equal(
            [
                "revenue 20190310 d0",
                "revenue 20190311 d0",
                "revenue 20190312 d0",
                "bi 20190310 d1 <revenue 20190310",
                "bi 20190311 d1 <revenue 20190311",
                "bi 20190312 d1 <revenue 20190312",
                "revenue 20190313 d1 <revenue 20190312",
                "bi 20190313 d2 <revenue 20190313",
            ],
            Rows(plan));
        Assert.Equal(plan.Runs.Count, plan.Runs.Select(r => r.Key).Distinct().Count());
    }

    [Fact]
    public void An_hour_of_an_hourly_job_plans_its_daily_job_and_that_days_hours_below_it()
    {
        var h = new Harness(Hourly("payments") with { Run = new RunSpec.External() }, Job("revenue", "payments"), Hourly("report", "revenue"));
        foreach (var hour in P(Day).Hours())
        {
            h.Marker(new Cascade.Core.Model.RunKey("payments", hour));
        }

        h.Settle();
        Assert.Equal(24 + 1 + 24, h.Scheduler.Runs.Count(r => r.IsDone));

        var plan = PlanOf(h, "payments", "2019031205");

        Assert.Equal("payments 2019031205 d0", Rows(plan)[0]);
        Assert.Equal("revenue 20190312 d1 <payments 2019031205", Rows(plan)[1]);
        Assert.Equal([.. P(Day).Hours().Select(p => $"report {p.Key} d2 <revenue 20190312")], Rows(plan).Skip(2));
    }

    [Fact]
    public void A_range_of_24_hours_plans_the_daily_job_below_them_only_once()
    {
        var h = new Harness(Hourly("payments") with { Run = new RunSpec.External() }, Job("revenue", "payments"));
        foreach (var hour in P(Day).Hours())
        {
            h.Marker(new Cascade.Core.Model.RunKey("payments", hour));
        }

        h.Settle();

        var plan = PlanOf(h, "payments", "2019031200", "2019031223");

        Assert.Equal(25, plan.Runs.Count);
        Assert.Equal(24, plan.Runs.Count(r => r.Depth == 0));
        Assert.Equal("revenue 20190312 d1 <payments 2019031200", Rows(plan)[24]);
    }

    [Fact]
    public void A_day_of_a_daily_job_plans_all_24_hours_of_the_hourly_job_below_it()
    {
        var h = new Harness(External("rates"), Hourly("convert", "rates"));
        h.Marker("rates", Day);
        h.Settle();

        var plan = PlanOf(h, "rates", Day);

        Assert.Equal(["rates 20190312 d0", .. P(Day).Hours().Select(p => $"convert {p.Key} d1 <rates 20190312")], Rows(plan));
    }

    [Fact]
    public void A_downstream_run_that_never_started_is_not_planned_because_it_follows_by_itself()
    {
        var h = new Harness(External("a"), External("x"), Job("b", "a", "x"), Job("c", "b"));
        h.Marker("a", Day);
        Assert.Equal(RunState.Waiting, h.Run("b", Day).State);

        Assert.Equal(["a 20190312 d0"], Rows(PlanOf(h, "a", Day)));
    }

    [Fact]
    public void A_partition_without_a_run_yet_is_planned_as_a_first_generation()
    {
        var h = SettledDiamond();

        var row = Assert.Single(PlanOf(h, "a", "20190313").Runs);

        Assert.Null(row.Current);
        Assert.Equal((0, 1), (row.Generation, row.NextGeneration));
    }

    [Fact]
    public void Running_runs_in_the_plan_are_reported_including_downstream_ones()
    {
        var h = new Harness(External("src"), Job("a", "src"), Job("b", "a"));
        h.Marker("src", Day);
        h.Exit("a", Day, 0);
        Assert.Equal(RunState.Running, h.Run("b", Day).State);

        var plan = PlanOf(h, "a", Day);

        Assert.Equal([Key("b", Day)], plan.Running.Select(r => r.Key));
    }
}
