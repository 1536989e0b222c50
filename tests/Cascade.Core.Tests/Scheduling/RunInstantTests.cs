using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using CsCheck;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>A run keeps its instants as UTC ticks: the same instants come back, none stays none.</summary>
public sealed class RunInstantTests
{
    private static readonly RunKey Key = new("revenue", Partition.Parse("20190312"));

    [Fact]
    public void Instants_come_back_as_the_same_instants_in_utc_and_missing_ones_stay_missing()
    {
        var berlin = new DateTimeOffset(2019, 3, 31, 3, 30, 0, TimeSpan.FromHours(2));
        var run = new Run { Key = Key, CreatedAt = berlin, FinishedAt = berlin.AddMinutes(5) };

        Assert.Equal(berlin, run.CreatedAt);
        Assert.Equal(TimeSpan.Zero, run.CreatedAt.Offset);
        Assert.Equal(berlin.UtcDateTime, run.CreatedAt.UtcDateTime);
        Assert.Equal(berlin.AddMinutes(5), run.FinishedAt);
        Assert.Null(run.QueuedAt);
        Assert.Null(run.ActivatedAt);
        Assert.Null(run.StartedAt);
        Assert.Null(run.NextRetryAt);
        Assert.Null(run.WaitDeadline);
    }

    [Fact]
    public void With_changes_one_instant_keeps_the_others_and_equality_is_by_instant()
    {
        var t = new DateTimeOffset(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
        var run = new Run { Key = Key, CreatedAt = t, QueuedAt = t.AddSeconds(1) };

        var started = run with { StartedAt = t.AddSeconds(2), QueuedAt = null };

        Assert.Equal(t, started.CreatedAt);
        Assert.Null(started.QueuedAt);
        Assert.Equal(t.AddSeconds(2), started.StartedAt);
        Assert.Equal(run, new Run { Key = Key, CreatedAt = t.ToOffset(TimeSpan.FromHours(-5)), QueuedAt = t.AddSeconds(1).ToOffset(TimeSpan.FromHours(9)) });
        Assert.NotEqual(run, started);
    }

    [Fact]
    public void Any_instant_from_year_1_to_9999_round_trips_to_the_tick()
    {
        Gen.Select(Gen.Long[1, DateTimeOffset.MaxValue.UtcTicks], Gen.Int[-14 * 60, 14 * 60]).Sample((ticks, offsetMinutes) =>
        {
            var utc = new DateTimeOffset(ticks, TimeSpan.Zero);
            var offset = TimeSpan.FromMinutes(offsetMinutes);
            var local = utc.UtcTicks + offset.Ticks is var l && l >= DateTimeOffset.MinValue.Ticks && l <= DateTimeOffset.MaxValue.Ticks ? utc.ToOffset(offset) : utc;
            var run = new Run { Key = Key, CreatedAt = local, NextRetryAt = local, WaitDeadline = local };
            Assert.Equal(utc.UtcTicks, run.CreatedAt.UtcTicks);
            Assert.Equal(utc.UtcTicks, run.NextRetryAt!.Value.UtcTicks);
            Assert.Equal(utc.UtcTicks, run.WaitDeadline!.Value.UtcTicks);
        });
    }
}
