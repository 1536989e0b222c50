using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Replay;
using Cascade.Core.Tests.Support;
using CsCheck;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// Issue 8, item 9: partitions have a supported range (1900..2999) and offsets a bound, so nothing
/// near or beyond the edges of the calendar throws: parsing refuses with a clear reason, arithmetic
/// on supported partitions never leaves <see cref="DateTime"/>, and the scheduler ignores what is
/// outside with a warning. The corpus (Properties/Corpus/partition-edges.txt) keeps the edge values.
/// </summary>
public sealed class PartitionRangeTests
{
    private static readonly string[] Corpus = [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Properties", "Corpus", "partition-edges.txt"))
        .Where(l => l.Length > 0 && !l.StartsWith('#'))];

    /// <summary>Days near both edges of the supported range and of DateTime, and some in between.</summary>
    private static readonly Gen<DateOnly> EdgeDate = Gen.OneOf(
        Gen.Int[-400, 400].Select(d => Partition.MinDate.AddDays(d)),
        Gen.Int[-400, 400].Select(d => Partition.MaxDate.AddDays(d)),
        Gen.Int[0, 400].Select(d => DateOnly.MinValue.AddDays(d)),
        Gen.Int[0, 400].Select(d => DateOnly.MaxValue.AddDays(-d)),
        Gen.Int[0, DateOnly.MaxValue.DayNumber].Select(DateOnly.FromDayNumber));

    private static readonly int[] EdgeOffsets = [-Partition.MaxOffset, -Partition.MaxOffset + 1, -24, -1, 1, 24, Partition.MaxOffset - 1, Partition.MaxOffset];

    private static readonly Gen<int> AllowedOffset = Gen.OneOf(
        Gen.Int[-Partition.MaxOffset, Partition.MaxOffset],
        Gen.Int[0, EdgeOffsets.Length - 1].Select(i => EdgeOffsets[i]));

    [Fact]
    public void Regression_8_09_every_corpus_entry_parses_to_a_supported_partition_or_is_refused_with_a_clear_reason()
    {
        Assert.True(Corpus.Length > 30);
        foreach (var text in Corpus)
        {
            if (Partition.TryParse(text, out var p, out var error))
            {
                Assert.True(p.IsSupported, text);
                Assert.True(Partition.TryParse(p.Key, out var again) && again == p, text);
            }
            else
            {
                Assert.True(error.Contains("is outside the supported range of partitions (1900-01-01..2999-12-31", StringComparison.Ordinal) || error.Contains("is not a partition: use YYYYMMDD", StringComparison.Ordinal), $"{text}: {error}");
            }

            if (text.Length is 8 or 10 && text.All(char.IsAsciiDigit))
            {
                // Marker names use the span parser: it must agree with the one for command lines.
                Assert.Equal(Partition.TryParse(text, out var viaString), Partition.TryParse(text.AsSpan(), out var viaSpan));
                Assert.Equal(viaString, viaSpan);
            }
        }
    }

    [Theory]
    [InlineData("{job}__{partition}.done")]
    [InlineData("{partition}/{job}.done")]
    public void Regression_8_09_marker_names_outside_the_range_are_refused_with_a_reason_that_states_the_range(string pattern)
    {
        var layout = MarkerLayout.Parse(pattern);
        foreach (var text in Corpus)
        {
            var name = pattern.Replace("{job}", "chain", StringComparison.Ordinal).Replace("{partition}", text, StringComparison.Ordinal);
            var result = layout.ParseName(name);
            if (result.Key is { } key)
            {
                Assert.True(key.Partition.IsSupported, name);
            }
            else
            {
                Assert.Contains(name, result.Error, StringComparison.Ordinal);
            }
        }

        Assert.Contains("outside the supported range of partitions (1900-01-01..2999-12-31", layout.ParseName(pattern.Replace("{job}", "chain", StringComparison.Ordinal).Replace("{partition}", "99991231", StringComparison.Ordinal)).Error, StringComparison.Ordinal);
        Assert.Contains("outside the supported range", layout.ParseName(pattern.Replace("{job}", "chain", StringComparison.Ordinal).Replace("{partition}", "00010101", StringComparison.Ordinal)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_8_09_supported_partitions_moved_by_any_allowed_offset_never_throw_in_the_dependency_mapping()
    {
        Gen.Select(EdgeDate, Gen.Int[0, 23], AllowedOffset).Sample((date, hour, offset) =>
        {
            var pipeline = OffsetPipeline(offset);
            foreach (var p in new[] { Partition.Day(date), Partition.Hour(date, hour) })
            {
                if (!p.IsSupported)
                {
                    Assert.False(Partition.TryParse(p.Key, out _));
                    continue;
                }

                _ = p.Add(offset);
                _ = p.Add(-offset);
                _ = pipeline.EndOf(p);
                foreach (var job in pipeline.Jobs.Where(j => j.Grain == p.Grain))
                {
                    var key = new RunKey(job.Name, p);
                    var inputs = pipeline.InputsOf(key);
                    var downstream = pipeline.DownstreamOf(key).ToList();
                    Assert.All(inputs, i => _ = pipeline.IsSatisfiedByStart(key, i));
                    _ = pipeline.DeadlineOf(key);
                    Assert.All(downstream, d => _ = pipeline.CanHaveRun(d));
                }
            }
        }, iter: 2_000);
    }

    [Fact]
    public void Regression_8_09_the_scheduler_given_partitions_near_and_beyond_the_edges_never_throws_and_warns_about_the_ones_outside()
    {
        Gen.Select(EdgeDate, Gen.Int[1, 3], Gen.Int[0, 23]).Sample((date, offset, hour) =>
        {
            var h = new Harness(OffsetPipeline(-offset), new SchedulerOptions());
            var day = Partition.Day(date);
            var inside = day.IsSupported && Partition.Day(date).Add(1).IsSupported;
            var effects = new List<SchedulerEffect>();
            effects.AddRange(h.Handle(new MarkerObserved(new RunKey("chain", day), MarkerBody.Empty, h.Now)));
            effects.AddRange(h.Handle(new MarkerObserved(new RunKey("hourly", Partition.Hour(date, hour)), MarkerBody.Empty, h.Now)));
            effects.AddRange(h.Handle(new TriggerRequested(new RunKey("chain_next", day), Map(), h.Now)));
            effects.AddRange(h.Handle(new ReplayRequested("chain_next", day, day, Downstream: true, Force: true, h.Now)));
            effects.AddRange(h.Handle(new BackfillRequested("bf", [], date, date, null, h.Now)));
            effects.AddRange(h.Handle(new CancelRequested(null, new RunKey("chain_next", day), h.Now, day)));
            effects.AddRange(h.Handle(new SchedulerStarted(h.Now)));
            effects.AddRange(h.Handle(new TimePassed(h.Now.AddDays(400))));
            Assert.All(h.Scheduler.Runs, r => Assert.True(r.Key.Partition.IsSupported, $"a run was created for {r.Key}"));
            if (!day.IsSupported)
            {
                Assert.Contains(Harness.WarningsIn(effects), w => w.Contains("outside the supported range", StringComparison.Ordinal));
            }
            else if (inside)
            {
                Assert.NotEmpty(h.Scheduler.Runs);
            }
        }, iter: 500);
    }

    [Fact]
    public void Regression_8_09_the_validator_bounds_offsets_and_start_dates_to_the_range()
    {
        var bad = Pipeline.Create(Definition(
            Job("a") with { Start = new DateOnly(1, 1, 1) },
            Job("b") with { After = [Dep("a", Partition.MaxOffset + 1)] },
            Job("c") with { After = [Dep("c", -Partition.MaxOffset - 1)] },
            Job("d") with { Start = new DateOnly(9999, 12, 31) }));

        Assert.False(bad.IsValid);
        var messages = bad.Errors.Select(e => e.Message).ToList();
        Assert.Contains(messages, m => m.Contains("start 0001-01-01 is outside the supported range of partitions (1900-01-01..2999-12-31", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("start 9999-12-31 is outside the supported range", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("offset 100001 of 'a' is too large (at most 100,000", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("offset -100001 of 'c' is too large", StringComparison.Ordinal));
        Assert.True(Pipeline.Create(Definition(Job("a") with { Start = Partition.MinDate }, Job("b") with { Start = Partition.MaxDate, After = [Dep("b", -Partition.MaxOffset)] })).IsValid);
    }

    [Fact]
    public void Regression_8_09_a_running_total_at_the_last_supported_day_runs_and_creates_nothing_beyond_it()
    {
        var h = new Harness(External("src"), Job("total") with { After = [Dep("src"), Dep("total", -1)], Start = Partition.MaxDate });
        h.Marker("src", "29991231");

        Assert.Equal(["total 29991231"], h.Starts.Names());
        h.Exit("total", "29991231", 0);

        Assert.DoesNotContain(h.Scheduler.Runs, r => !r.Key.Partition.IsSupported);
    }

    [Fact]
    public void Regression_8_09_an_offset_input_before_the_first_supported_day_counts_as_done()
    {
        var h = new Harness(External("src"), Job("total") with { After = [Dep("src"), Dep("total", -1)] });

        h.Marker("src", "19000101");

        Assert.Equal(["total 19000101"], h.Starts.Names());
    }

    /// <summary>chain (daily, self offset) → chain_next (daily, offset) → hourly (offset): the marker names.</summary>
    private static Pipeline OffsetPipeline(int offset) => PipelineOf(
        Job("chain") with { After = offset < 0 ? [Dep("chain", offset)] : [] },
        Job("chain_next") with { After = [Dep("chain", offset), Dep("chain_next", -1)] },
        Hourly("hourly") with { After = [Dep("chain_next", offset)] });
}
