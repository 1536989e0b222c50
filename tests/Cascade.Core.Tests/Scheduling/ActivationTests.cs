using Cascade.Core.Markers;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>When runs are created and activated: guarantee 1 (never before all inputs) and 2 (once).</summary>
public sealed class ActivationTests
{
    [Fact]
    public void Fan_in_waits_for_its_slowest_input()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c"), Job("report", "a", "b", "c"));

        Assert.Empty(Harness.StartsIn(h.Marker("a", "20190312")));
        Assert.Empty(Harness.StartsIn(h.Marker("c", "20190312")));
        var started = Harness.StartsIn(h.Marker("b", "20190312"));

        var activation = Assert.Single(started);
        Assert.Equal(Key("report", "20190312"), activation.Key);
        Assert.Equal(RunState.Running, h.Run("report", "20190312").State);
    }

    [Fact]
    public void A_run_is_created_waiting_when_its_first_input_is_done()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c", "a", "b"));
        h.Clock.Advance(TimeSpan.FromMinutes(5));

        var effects = h.Marker("a", "20190312");

        Assert.Equal(["a 20190312 succeeded", "c 20190312 waiting"], Harness.EventsIn(effects));
        var run = h.Run("c", "20190312");
        Assert.Equal(RunState.Waiting, run.State);
        Assert.Equal(h.Now, run.CreatedAt);
        Assert.Equal(0, run.Attempt);
        Assert.Null(run.ActivatedAt);
    }

    [Fact]
    public void No_run_exists_before_any_input_is_done()
    {
        var h = new Harness(Job("a"), Job("b", "a"));

        h.Marker("a", "20190312");

        Assert.Null(h.Find("b", "20190313"));
        Assert.Null(h.Find("a", "20190313"));
    }

    [Fact]
    public void Last_input_marker_activates_downstream_once_whatever_the_duplicates()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c", "a", "b"));

        h.Marker("a", "20190312");
        h.Marker("a", "20190312");
        h.Marker("b", "20190312");
        h.Marker("b", "20190312");
        h.Marker("a", "20190312", MarkerBody.Parse("""{"params": {"late": "x"}}"""));
        h.Exit("c", "20190312", 0);
        h.Marker("b", "20190312");
        h.Marker("c", "20190312");

        var activation = Assert.Single(h.Starts);
        Assert.Equal(Key("c", "20190312"), activation.Key);
        Assert.Equal(1, activation.Attempt);
        Assert.Equal(1, activation.Generation);
        Assert.Equal(RunState.Succeeded, h.Run("c", "20190312").State);
    }

    [Fact]
    public void A_duplicate_marker_changes_nothing()
    {
        var h = new Harness(Job("a"), Job("b", "a"));
        h.Marker("a", "20190312", MarkerBody.Parse("""{"rows": 1}"""));

        var effects = h.Marker("a", "20190312", MarkerBody.Parse("""{"rows": 2}"""));

        Harness.AssertNothingHappened(effects);
        Assert.Equal(1, h.Run("a", "20190312").Marker!.Meta["rows"].GetInt32());
    }

    [Fact]
    public void A_daily_job_after_an_hourly_job_starts_on_the_24th_hour_and_not_before()
    {
        var h = new Harness(Hourly("payments"), Job("revenue", "payments"));
        var hours = P("20190312").Hours().ToList();
        var order = hours.Select((p, i) => (p, i)).OrderBy(x => (x.i * 7) % 24).Select(x => x.p).ToList();

        foreach (var hour in order.Take(23))
        {
            Assert.Empty(Harness.StartsIn(h.Marker(new("payments", hour))));
        }

        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190312").State);
        var started = Harness.StartsIn(h.Marker(new("payments", order[23])));

        Assert.Equal(Key("revenue", "20190312"), Assert.Single(started).Key);
    }

    [Fact]
    public void An_hourly_job_after_a_daily_job_starts_all_hours_of_that_day()
    {
        var h = new Harness(Job("rates"), Hourly("convert", "rates"));

        var started = Harness.StartsIn(h.Marker("rates", "20190312"));

        Assert.Equal(P("20190312").Hours(), started.Select(a => a.Key.Partition));
    }

    [Fact]
    public void Offset_chain_arriving_out_of_order_runs_the_first_partition_on_start_and_later_ones_after_the_previous_day()
    {
        var h = new Harness(
            External("player_entry"),
            Job("revenue") with { After = [Dep("player_entry"), Dep("revenue", -1)], Start = Date("2019-03-01") });

        Assert.Empty(Harness.StartsIn(h.Marker("player_entry", "20190303")));
        Assert.Empty(Harness.StartsIn(h.Marker("player_entry", "20190302")));
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190303").State);
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190302").State);

        Assert.Equal([Key("revenue", "20190301")], Harness.StartsIn(h.Marker("player_entry", "20190301")).Select(a => a.Key));
        Assert.Equal([Key("revenue", "20190302")], Harness.StartsIn(h.Exit("revenue", "20190301", 0)).Select(a => a.Key));
        Assert.Equal(RunState.Waiting, h.Run("revenue", "20190303").State);
        Assert.Equal([Key("revenue", "20190303")], Harness.StartsIn(h.Exit("revenue", "20190302", 0)).Select(a => a.Key));
        Assert.Empty(Harness.StartsIn(h.Exit("revenue", "20190303", 0)));
    }

    [Fact]
    public void No_run_is_created_for_a_partition_before_the_jobs_start()
    {
        var h = new Harness(Job("a"), Job("b", "a") with { Start = Date("2019-03-10") });

        var effects = h.Marker("a", "20190309");

        Assert.Null(h.Find("b", "20190309"));
        Assert.Equal(["a 20190309 succeeded"], Harness.EventsIn(effects));
        Assert.Single(Harness.StartsIn(h.Marker("a", "20190310")));
    }

    [Fact]
    public void A_downstream_external_job_waits_for_its_marker_and_is_never_started()
    {
        var h = new Harness(Job("a"), External("vendor_load", "a"), Job("b", "vendor_load"));

        var effects = h.Marker("a", "20190312");

        Assert.Empty(Harness.StartsIn(effects));
        Assert.Equal(RunState.Waiting, h.Run("vendor_load", "20190312").State);
        Assert.Single(Harness.WarningsIn(h.Trigger("vendor_load", "20190312")));
        Assert.Empty(h.Starts);

        var started = Harness.StartsIn(h.Marker("vendor_load", "20190312"));

        Assert.Equal(RunState.Succeeded, h.Run("vendor_load", "20190312").State);
        Assert.Equal([Key("b", "20190312")], started.Select(a => a.Key));
    }

    [Fact]
    public void A_marker_for_an_unknown_job_is_a_warning_and_changes_no_state()
    {
        var h = new Harness(Job("a"));

        var effects = h.Marker("nobody", "20190312");

        Assert.Contains("unknown job 'nobody'", Assert.Single(Harness.WarningsIn(effects)), StringComparison.Ordinal);
        Assert.Empty(Harness.EventsIn(effects));
        Assert.Empty(h.Scheduler.Runs);
    }

    [Fact]
    public void A_marker_of_the_wrong_grain_is_a_warning_and_changes_no_state()
    {
        var h = new Harness(Job("a"), Hourly("h"));

        Assert.Contains("is daily", Assert.Single(Harness.WarningsIn(h.Marker("a", "2019031205"))), StringComparison.Ordinal);
        Assert.Contains("is hourly", Assert.Single(Harness.WarningsIn(h.Marker("h", "20190312"))), StringComparison.Ordinal);
        Assert.Empty(h.Scheduler.Runs);
    }

    [Fact]
    public void A_bad_marker_body_still_counts_as_done_and_is_kept_as_a_warning_on_the_run()
    {
        var h = new Harness(Job("a"), Job("b", "a"));

        var started = Harness.StartsIn(h.Marker("a", "20190312", MarkerBody.Parse("{oops")));

        Assert.Single(started);
        var run = h.Run("a", "20190312");
        Assert.True(run.IsDone);
        Assert.Contains("not valid JSON", Assert.Single(run.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void A_marker_makes_a_root_run_succeeded_with_its_body()
    {
        var h = new Harness(Job("a"));
        var body = MarkerBody.Parse("""{"rows": 5, "params": {"k": "v"}}""");

        h.Marker("a", "20190312", body);

        var run = h.Run("a", "20190312");
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Same(body, run.Marker);
        Assert.Equal(h.Now, run.FinishedAt);
        Assert.Null(run.ExitCode);
        Assert.True(h.Scheduler.IsDone(Key("a", "20190312")));
        Assert.True(h.Scheduler.IsIdle);
    }
}
