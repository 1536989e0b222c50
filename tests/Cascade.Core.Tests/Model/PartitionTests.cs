using Cascade.Core.Model;

namespace Cascade.Core.Tests.Model;

public sealed class PartitionTests
{
    [Theory]
    [InlineData("20190312", Grain.Daily, "20190312")]
    [InlineData("2019-03-12", Grain.Daily, "20190312")]
    [InlineData("2019031205", Grain.Hourly, "2019031205")]
    [InlineData("2019-03-12T05", Grain.Hourly, "2019031205")]
    [InlineData("2019031200", Grain.Hourly, "2019031200")]
    [InlineData("2019031223", Grain.Hourly, "2019031223")]
    [InlineData(" 20190312 ", Grain.Daily, "20190312")]
    public void Every_accepted_spelling_parses_to_its_canonical_key_and_grain(string text, Grain grain, string key)
    {
        Assert.True(Partition.TryParse(text, out var p));
        Assert.Equal(grain, p.Grain);
        Assert.Equal(key, p.Key);
        Assert.Equal(key, p.ToString());
    }

    [Theory]
    [InlineData("20191332")]
    [InlineData("20190230")]
    [InlineData("2019031224")]
    [InlineData("2019-03-12T24")]
    [InlineData("2019-03-12T05:30")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("201903")]
    [InlineData("201903120")]
    [InlineData("20190312055")]
    public void Bad_spellings_are_rejected(string? text)
    {
        Assert.False(Partition.TryParse(text, out _));
    }

    [Fact]
    public void Parse_of_a_bad_spelling_explains_the_accepted_formats()
    {
        var e = Assert.Throws<FormatException>(() => Partition.Parse("abc"));
        Assert.Contains("'abc'", e.Message, StringComparison.Ordinal);
        Assert.Contains("YYYYMMDD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parsing_with_a_grain_rejects_a_day_for_an_hourly_job_and_an_hour_for_a_daily_job()
    {
        Assert.True(Partition.TryParse("20190312", Grain.Daily, out _));
        Assert.False(Partition.TryParse("20190312", Grain.Hourly, out _));
        Assert.True(Partition.TryParse("2019031205", Grain.Hourly, out _));
        Assert.False(Partition.TryParse("2019031205", Grain.Daily, out _));
    }

    [Fact]
    public void Different_spellings_of_the_same_period_are_equal()
    {
        Assert.Equal(Partition.Parse("20190312"), Partition.Parse("2019-03-12"));
        Assert.Equal(Partition.Parse("2019031205"), Partition.Parse("2019-03-12T05"));
        Assert.Equal(Partition.Day(new DateOnly(2019, 3, 12)), Partition.Parse("20190312"));
        Assert.Equal(Partition.Hour(new DateOnly(2019, 3, 12), 5), Partition.Parse("2019031205"));
    }

    [Fact]
    public void A_day_and_its_first_hour_are_different_partitions()
    {
        Assert.NotEqual(Partition.Parse("20190312"), Partition.Parse("2019031200"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(24)]
    public void Hour_outside_the_day_is_refused(int hour)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Hour(new DateOnly(2019, 3, 12), hour));
    }

    [Theory]
    [InlineData("20190331", 1, "20190401")]
    [InlineData("20191231", 1, "20200101")]
    [InlineData("20200101", -1, "20191231")]
    [InlineData("20200228", 1, "20200229")]
    [InlineData("20190228", 1, "20190301")]
    [InlineData("20190312", 0, "20190312")]
    [InlineData("20190312", -12, "20190228")]
    [InlineData("2019033123", 1, "2019040100")]
    [InlineData("2019123123", 1, "2020010100")]
    [InlineData("2020010100", -1, "2019123123")]
    [InlineData("2019031205", 48, "2019031405")]
    public void Add_crosses_month_and_year_ends(string from, int units, string expected)
    {
        Assert.Equal(expected, Partition.Parse(from).Add(units).Key);
    }

    [Fact]
    public void Hours_gives_the_24_hours_of_the_day_in_order()
    {
        var hours = Partition.Parse("20190312").Hours().ToList();

        Assert.Equal(24, hours.Count);
        Assert.All(hours, h => Assert.Equal(Grain.Hourly, h.Grain));
        Assert.Equal([.. Enumerable.Range(0, 24).Select(h => $"20190312{h:D2}")], hours.Select(h => h.Key));
        Assert.Equal(hours.Order(), hours);
    }

    [Fact]
    public void Hours_of_an_hour_are_the_hours_of_its_day()
    {
        Assert.Equal(Partition.Parse("20190312").Hours(), Partition.Parse("2019031217").Hours());
    }

    [Fact]
    public void ToDay_maps_an_hour_to_its_day_and_a_day_to_itself()
    {
        Assert.Equal(Partition.Parse("20190312"), Partition.Parse("2019031223").ToDay());
        Assert.Equal(Partition.Parse("20190312"), Partition.Parse("2019031200").ToDay());
        Assert.Equal(Partition.Parse("20190312"), Partition.Parse("20190312").ToDay());
    }

    [Fact]
    public void Partitions_order_by_time_then_grain()
    {
        Assert.True(Partition.Parse("20190311") < Partition.Parse("20190312"));
        Assert.True(Partition.Parse("2019031123") < Partition.Parse("20190312"));
        Assert.True(Partition.Parse("20190312") < Partition.Parse("2019031200"));
        Assert.True(Partition.Parse("2019031200") <= Partition.Parse("2019031200"));
    }

    [Fact]
    public void Date_and_hour_of_day_come_from_the_start()
    {
        var p = Partition.Parse("2019031205");
        Assert.Equal(new DateOnly(2019, 3, 12), p.Date);
        Assert.Equal(5, p.HourOfDay);
        Assert.Equal(new DateTime(2019, 3, 12, 5, 0, 0, DateTimeKind.Unspecified), p.Start);
    }
}
