using Cascade.Core.Markers;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>What an activation carries: rendered argv, built-in values and merged params.</summary>
public sealed class ParamsTests
{
    private static MarkerBody Params(params (string Key, string Value)[] pairs) => new() { Params = Map(pairs) };

    [Fact]
    public void Params_come_from_job_defaults_then_inputs_markers_in_after_order_then_the_trigger()
    {
        var h = new Harness(
            Job("first"),
            Job("second"),
            Job("gate"),
            Job("c", "first", "second", "gate") with { Params = Map(("w", "job"), ("x", "job"), ("y", "job"), ("z", "job")) });
        h.Marker("second", "20190312", Params(("y", "second"), ("z", "second")));
        h.Marker("first", "20190312", Params(("x", "first"), ("y", "first"), ("z", "first")));

        var started = Harness.StartsIn(h.Trigger("c", "20190312", Map(("z", "trigger"))));

        var activation = Assert.Single(started);
        Assert.Equal(Map(("w", "job"), ("x", "first"), ("y", "second"), ("z", "trigger")), activation.Params);
        Assert.Equal(activation.Params, h.Run("c", "20190312").Params);
    }

    [Fact]
    public void A_later_after_entry_wins_a_conflict_whatever_the_order_the_markers_arrived_in()
    {
        var h = new Harness(Job("a"), Job("b"), Job("c", "b", "a"));

        h.Marker("b", "20190312", Params(("region", "from-b")));
        var started = Harness.StartsIn(h.Marker("a", "20190312", Params(("region", "from-a"))));

        Assert.Equal("from-a", Assert.Single(started).Params["region"]);
    }

    [Fact]
    public void Params_of_offset_inputs_are_not_passed_on()
    {
        var h = new Harness(Job("a"), Job("r") with { After = [Dep("a"), Dep("a", -1)] });

        h.Marker("a", "20190311", Params(("day", "yesterday")));
        var started = Harness.StartsIn(h.Marker("a", "20190312"));

        var activation = Assert.Single(started, s => s.Key == Key("r", "20190312"));
        Assert.False(activation.Params.ContainsKey("day"));
    }

    [Fact]
    public void Argv_is_rendered_per_argument_with_built_ins_and_params()
    {
        var h = new Harness(
            Job("a"),
            Hourly("h", "a") with { Run = new RunSpec.Command(["./h.sh", "--at={date}T{hour}", "{params.region}", "{year}/{month}/{day}", "{run_id}"]) });

        var started = Harness.StartsIn(h.Marker("a", "20190312", Params(("region", "eu; rm -rf /"))));

        var activation = started.Single(s => s.Key.Partition.HourOfDay == 5);
        Assert.Equal(["./h.sh", "--at=2019-03-12T05", "eu; rm -rf /", "2019/03/12", "h__2019031205__g1a1"], activation.Argv);
        Assert.Equal("h__2019031205__g1a1", activation.RunId);
        Assert.Equal("05", activation.Values["hour"]);
        Assert.Equal("2019031205", activation.Values["partition"]);
    }

    [Fact]
    public void A_placeholder_with_no_value_fails_the_run_at_once_naming_it_without_retry()
    {
        var h = new Harness(Job("a"), Job("b", "a") with { Retries = 3, Run = new RunSpec.Command(["./b.sh", "{params.region}"]) });

        var effects = h.Marker("a", "20190312");

        Assert.Empty(Harness.StartsIn(effects));
        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("{params.region}", run.Reason, StringComparison.Ordinal);
        Assert.Contains("not retried", run.Reason, StringComparison.Ordinal);
        Assert.Null(run.NextRetryAt);
        Assert.Equal(h.Now, run.FinishedAt);
        Assert.True(h.Scheduler.IsIdle);
        Assert.Null(h.Scheduler.NextWakeAt);
        Assert.Contains("b 20190312 failed", Harness.EventsIn(effects));
    }
}
