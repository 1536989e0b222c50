using Cascade.Core.Pipelines;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Pipelines;

public sealed class StartDateTests
{
    [Fact]
    public void A_job_with_its_own_start_keeps_it()
    {
        var pipeline = PipelineOf(Job("a") with { Start = Date("2019-03-01") }, Job("b", "a") with { Start = Date("2019-02-01") });

        Assert.Equal(Date("2019-02-01"), pipeline.EffectiveStart("b"));
    }

    [Fact]
    public void A_job_without_start_inherits_the_latest_start_of_its_upstream_jobs_transitively()
    {
        var pipeline = PipelineOf(
            Job("d", "c"),
            Job("c", "a", "b"),
            Job("a") with { Start = Date("2019-03-01") },
            Job("b") with { Start = Date("2019-03-05") });

        Assert.Equal(Date("2019-03-05"), pipeline.EffectiveStart("c"));
        Assert.Equal(Date("2019-03-05"), pipeline.EffectiveStart("d"));
    }

    [Fact]
    public void Without_any_start_the_effective_start_is_null()
    {
        var pipeline = PipelineOf(Job("a"), Job("b", "a"));

        Assert.Null(pipeline.EffectiveStart("a"));
        Assert.Null(pipeline.EffectiveStart("b"));
        Assert.False(pipeline.IsBeforeStart(Key("b", "19000101")));
    }

    [Fact]
    public void A_self_offset_does_not_stop_inheritance()
    {
        var pipeline = PipelineOf(Job("a") with { Start = Date("2019-03-01") }, Job("r") with { After = [Dep("a"), Dep("r", -1)] });

        Assert.Equal(Date("2019-03-01"), pipeline.EffectiveStart("r"));
    }

    // Regression (found while writing these tests): the recursive ComputeStart cached the partial
    // result of a job reached through a cycle (via a negative offset) as final, so the answer
    // depended on the order of the jobs in the file.
    [Fact]
    public void Effective_start_does_not_depend_on_the_order_of_jobs_in_a_cycle_through_an_offset()
    {
        JobDefinition[] Jobs() =>
        [
            Job("a") with { After = [Dep("b", -1), Dep("c")] },
            Job("b", "a"),
            Job("c") with { Start = Date("2019-03-01") },
        ];
        var fileOrder = PipelineOf(Jobs());
        var otherOrder = PipelineOf([.. Jobs().Reverse()]);

        Assert.Equal(Date("2019-03-01"), otherOrder.EffectiveStart("b"));
        Assert.True(
            fileOrder.EffectiveStart("b") == Date("2019-03-01"),
            $"BUG: b is after a, which starts 2019-03-01, but EffectiveStart(b) is '{fileOrder.EffectiveStart("b")}' when a is listed first");
    }

    [Fact]
    public void A_partition_before_the_effective_start_is_before_start()
    {
        var pipeline = PipelineOf(Job("a") with { Start = Date("2019-03-01") }, Hourly("h", "a"));

        Assert.True(pipeline.IsBeforeStart(Key("a", "20190228")));
        Assert.False(pipeline.IsBeforeStart(Key("a", "20190301")));
        Assert.True(pipeline.IsBeforeStart(Key("h", "2019022823")));
        Assert.False(pipeline.IsBeforeStart(Key("h", "2019030100")));
    }

    [Fact]
    public void An_offset_input_before_the_downstream_start_is_satisfied_by_start()
    {
        var pipeline = PipelineOf(Job("a"), Job("r") with { After = [Dep("a"), Dep("r", -1)], Start = Date("2019-03-01") });

        var first = pipeline.InputsOf(Key("r", "20190301"));
        var second = pipeline.InputsOf(Key("r", "20190302"));

        Assert.False(pipeline.IsSatisfiedByStart(Key("r", "20190301"), first[0]));
        Assert.True(pipeline.IsSatisfiedByStart(Key("r", "20190301"), first[1]));
        Assert.False(pipeline.IsSatisfiedByStart(Key("r", "20190302"), second[1]));
    }

    [Fact]
    public void An_offset_input_before_the_upstream_start_is_satisfied_by_start()
    {
        var pipeline = PipelineOf(
            Job("late") with { Start = Date("2019-03-10") },
            Job("early") with { Start = Date("2019-03-01") },
            Job("b") with { After = [Dep("early"), Dep("late", -1)], Start = Date("2019-03-01") });

        var input = pipeline.InputsOf(Key("b", "20190310"))[1];
        Assert.Equal(Key("late", "20190309"), input.Key);
        Assert.True(pipeline.IsSatisfiedByStart(Key("b", "20190310"), input));
        Assert.False(pipeline.IsSatisfiedByStart(Key("b", "20190311"), pipeline.InputsOf(Key("b", "20190311"))[1]));
    }

    [Fact]
    public void A_same_partition_input_is_never_satisfied_by_start()
    {
        var pipeline = PipelineOf(Job("a") with { Start = Date("2019-03-10") }, Job("b", "a") with { Start = Date("2019-03-01") });

        var input = Assert.Single(pipeline.InputsOf(Key("b", "20190301")));
        Assert.False(pipeline.IsSatisfiedByStart(Key("b", "20190301"), input));
    }
}
