using Cascade.Core.Model;
using CsCheck;

namespace Cascade.Core.Tests.Model;

public sealed class DurationTests
{
    public static TheoryData<string, TimeSpan> Accepted => new()
    {
        { "30s", TimeSpan.FromSeconds(30) },
        { "90s", TimeSpan.FromSeconds(90) },
        { "5m", TimeSpan.FromMinutes(5) },
        { "6h", TimeSpan.FromHours(6) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "2d", TimeSpan.FromDays(2) },
        { "500ms", TimeSpan.FromMilliseconds(500) },
        { "1d2h3m4s5ms", new TimeSpan(1, 2, 3, 4, 5) },
        { "0s", TimeSpan.Zero },
        { " 6h ", TimeSpan.FromHours(6) },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Accepted_durations_parse(string text, TimeSpan expected)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(null)]
    [InlineData("5x")]
    [InlineData("m")]
    [InlineData("5")]
    [InlineData("h5")]
    [InlineData("30m1h")]
    [InlineData("-5s")]
    [InlineData("1.5h")]
    [InlineData("5 m")]
    [InlineData("5M")]
    public void Malformed_durations_are_rejected(string? text)
    {
        Assert.False(Duration.TryParse(text, out _));
    }

    [Theory]
    [InlineData(30_000, "30s")]
    [InlineData(300_000, "5m")]
    [InlineData(21_600_000, "6h")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(172_800_000, "2d")]
    [InlineData(500, "500ms")]
    [InlineData(0, "0s")]
    [InlineData(93_784_005, "1d2h3m4s5ms")]
    public void Format_writes_the_shortest_spelling(long milliseconds, string expected)
    {
        Assert.Equal(expected, Duration.Format(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Format_then_parse_gives_back_any_whole_millisecond_duration()
    {
        Gen.Long[0, 1000L * 60 * 60 * 24 * 3650].Sample(ms =>
        {
            var value = TimeSpan.FromMilliseconds(ms);
            return Duration.TryParse(Duration.Format(value), out var back) && back == value;
        });
    }

    // Regression (found while writing these tests): TimeSpan.FromMilliseconds(long),
    // FromSeconds(long) and FromMinutes(long) throw ArgumentOutOfRangeException (not
    // OverflowException) on overflow, so a typo in the pipeline file crashed TryParse.
    [Theory]
    [InlineData("99999999999999999ms")]
    [InlineData("9999999999999999s")]
    [InlineData("999999999999m")]
    [InlineData("99999999999h")]
    [InlineData("100000000000000000000d")]
    public void Duration_TryParse_returns_false_instead_of_throwing_on_a_value_too_large(string text)
    {
        var threw = Record.Exception(() => Duration.TryParse(text, out _));
        Assert.True(threw is null, $"BUG: Duration.TryParse(\"{text}\") threw {threw?.GetType().Name} instead of returning false");
        Assert.False(Duration.TryParse(text, out _));
    }
}
