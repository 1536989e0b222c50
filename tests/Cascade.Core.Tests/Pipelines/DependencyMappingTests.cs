using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Tests.Properties;
using CsCheck;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Pipelines;

public sealed class DependencyMappingTests
{
    private static List<string> Inputs(Pipeline pipeline, string job, string partition) =>
        [.. pipeline.InputsOf(Key(job, partition)).Select(i => i.Key.ToString())];

    private static List<string> Downstream(Pipeline pipeline, string job, string partition) =>
        [.. pipeline.DownstreamOf(Key(job, partition)).Select(k => k.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public void A_plain_after_entry_needs_the_same_partition()
    {
        var pipeline = PipelineOf(Job("a"), Job("b", "a"));

        Assert.Equal(["a 20190312"], Inputs(pipeline, "b", "20190312"));
        Assert.Equal(["b 20190312"], Downstream(pipeline, "a", "20190312"));
    }

    [Fact]
    public void Offset_minus_one_between_daily_jobs_needs_the_previous_day_across_a_year_end()
    {
        var pipeline = PipelineOf(Job("a"), Job("b") with { After = [Dep("a", -1)] });

        Assert.Equal(["a 20181231"], Inputs(pipeline, "b", "20190101"));
        Assert.Equal(["b 20190101"], Downstream(pipeline, "a", "20181231"));
    }

    [Fact]
    public void A_daily_job_after_an_hourly_job_needs_all_24_hours_in_order()
    {
        var pipeline = PipelineOf(Hourly("payments"), Job("revenue", "payments"));

        Assert.Equal([.. Enumerable.Range(0, 24).Select(h => $"payments 20190312{h:D2}")], Inputs(pipeline, "revenue", "20190312"));
        Assert.Equal(["revenue 20190312"], Downstream(pipeline, "payments", "2019031200"));
        Assert.Equal(["revenue 20190312"], Downstream(pipeline, "payments", "2019031223"));
    }

    [Fact]
    public void An_hourly_job_after_a_daily_job_needs_that_day()
    {
        var pipeline = PipelineOf(Job("rates"), Hourly("convert", "rates"));

        Assert.Equal(["rates 20190312"], Inputs(pipeline, "convert", "2019031200"));
        Assert.Equal(["rates 20190312"], Inputs(pipeline, "convert", "2019031223"));
        Assert.Equal([.. Enumerable.Range(0, 24).Select(h => $"convert 20190312{h:D2}")], Downstream(pipeline, "rates", "20190312"));
    }

    [Fact]
    public void Offsets_between_daily_and_hourly_jobs_count_days()
    {
        var pipeline = PipelineOf(
            Hourly("payments"),
            Job("rates"),
            Job("revenue") with { After = [Dep("payments", -1)] },
            Hourly("convert") with { After = [Dep("rates", -1)] });

        Assert.Equal([.. Enumerable.Range(0, 24).Select(h => $"payments 20190311{h:D2}")], Inputs(pipeline, "revenue", "20190312"));
        Assert.Equal(["revenue 20190313"], Downstream(pipeline, "payments", "2019031205"));
        Assert.Equal(["rates 20190311"], Inputs(pipeline, "convert", "2019031205"));
        Assert.Equal(24, Downstream(pipeline, "rates", "20190311").Count);
        Assert.All(Downstream(pipeline, "rates", "20190311"), k => Assert.StartsWith("convert 20190312", k, StringComparison.Ordinal));
    }

    [Fact]
    public void Offsets_between_hourly_jobs_count_hours_across_midnight()
    {
        var pipeline = PipelineOf(Hourly("a"), Hourly("b") with { After = [Dep("a", -1)] });

        Assert.Equal(["a 2019031123"], Inputs(pipeline, "b", "2019031200"));
        Assert.Equal(["b 2019031200"], Downstream(pipeline, "a", "2019031123"));
    }

    [Fact]
    public void Inputs_follow_the_order_of_after_and_carry_their_entry()
    {
        var pipeline = PipelineOf(Job("x"), Job("y"), Job("z") with { After = [Dep("y"), Dep("x", -1), Dep("z", -1)] });

        var inputs = pipeline.InputsOf(Key("z", "20190312"));

        Assert.Equal(["y 20190312", "x 20190311", "z 20190311"], inputs.Select(i => i.Key.ToString()));
        Assert.Equal([0, 1, 2], inputs.Select(i => i.AfterIndex));
        Assert.Equal([0, -1, -1], inputs.Select(i => i.Dependency.Offset));
    }

    [Fact]
    public void A_job_that_uses_yesterdays_self_is_downstream_of_itself_one_day_later()
    {
        var pipeline = PipelineOf(Job("a"), Job("revenue") with { After = [Dep("a"), Dep("revenue", -1)] });

        Assert.Equal(["revenue 20190313"], Downstream(pipeline, "revenue", "20190312"));
    }

    [Fact]
    public void A_root_has_no_inputs_and_a_leaf_has_no_downstream()
    {
        var pipeline = PipelineOf(Job("a"), Job("b", "a"));

        Assert.Empty(pipeline.InputsOf(Key("a", "20190312")));
        Assert.Empty(pipeline.DownstreamOf(Key("b", "20190312")));
    }

    [Fact]
    public void Downstream_jobs_are_listed_once_even_with_two_after_entries()
    {
        var pipeline = PipelineOf(Job("a"), Job("b") with { After = [Dep("a"), Dep("a", -1)] }, Job("c", "a"));

        Assert.Equal(["b", "c"], pipeline.DownstreamJobs("a").Select(j => j.Name));
        Assert.Empty(pipeline.DownstreamJobs("c"));
    }

    [Fact]
    public void An_input_is_needed_by_a_run_exactly_when_the_run_is_downstream_of_the_input()
    {
        var partitions = Gen.Select(Gen.Int[0, 40], Gen.Int[0, 23]);
        Gen.Select(PipelineShape.AnyOffsets, partitions.Array[1, 4]).Sample((shape, picks) =>
        {
            var pipeline = shape.Build();
            foreach (var job in pipeline.Jobs)
            {
                foreach (var (day, hour) in picks)
                {
                    var date = PipelineShape.FirstDay.AddDays(day);
                    var key = new RunKey(job.Name, job.Grain == Grain.Daily ? Partition.Day(date) : Partition.Hour(date, hour));

                    foreach (var input in pipeline.InputsOf(key))
                    {
                        Assert.Equal(pipeline[input.Key.Job].Grain, input.Key.Partition.Grain);
                        Assert.Contains(key, pipeline.DownstreamOf(input.Key));
                    }

                    foreach (var down in pipeline.DownstreamOf(key))
                    {
                        Assert.Equal(pipeline[down.Job].Grain, down.Partition.Grain);
                        Assert.Contains(key, pipeline.InputsOf(down).Select(i => i.Key));
                    }
                }
            }
        }, print: t => t.Item1.ToString());
    }
}
