using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Tests.Support;
using CsCheck;

namespace Cascade.Core.Tests.Markers;

public sealed class MarkerLayoutTests
{
    [Theory]
    [InlineData("player_entry", "20190312", "player_entry__20190312.done")]
    [InlineData("payments", "2019031205", "payments__2019031205.done")]
    [InlineData("bi-import", "20191231", "bi-import__20191231.done")]
    public void Default_layout_formats_job_and_partition_and_parses_them_back(string job, string partition, string name)
    {
        var key = Build.Key(job, partition);

        Assert.Equal(name, MarkerLayout.Default.Format(key));
        Assert.Equal(MarkerNameResult.Ok(key), MarkerLayout.Default.ParseName(name));
    }

    [Fact]
    public void Default_layout_pattern_is_job_then_double_underscore_then_partition()
    {
        Assert.Equal("{job}__{partition}.done", MarkerLayout.Default.Pattern);
    }

    [Fact]
    public void Custom_layout_with_a_folder_per_partition_roundtrips()
    {
        var layout = MarkerLayout.Parse("{partition}/{job}.done");
        var key = Build.Key("sessions", "20190312");

        Assert.Equal("20190312/sessions.done", layout.Format(key));
        Assert.Equal(key, layout.ParseName("20190312/sessions.done").Key);
        Assert.Equal(Build.Key("payments", "2019031205"), layout.ParseName("2019031205/payments.done").Key);
    }

    [Fact]
    public void Custom_layout_does_not_accept_names_of_the_default_layout()
    {
        var result = MarkerLayout.Parse("{partition}/{job}.done").ParseName("sessions__20190312.done");

        Assert.Null(result.Key);
        Assert.Contains("does not match the marker layout '{partition}/{job}.done'", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("done/{job}.done", "{job} and {partition} exactly once")]
    [InlineData("{partition}.done", "{job} and {partition} exactly once")]
    [InlineData("x.done", "{job} and {partition} exactly once")]
    [InlineData("{job}__{partition}__{job}.done", "{job} and {partition} exactly once")]
    [InlineData("{job}__{partition}", "must end in .done")]
    [InlineData("{job}__{partition}.txt", "must end in .done")]
    [InlineData("/abs/{job}__{partition}.done", "relative path")]
    [InlineData("../{job}__{partition}.done", "relative path")]
    [InlineData("a\\{job}__{partition}.done", "relative path")]
    public void Layouts_without_both_placeholders_or_not_ending_in_done_are_rejected(string pattern, string because)
    {
        Assert.False(MarkerLayout.TryParse(pattern, out var layout, out var error));
        Assert.Null(layout);
        Assert.Contains(because, error, StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => MarkerLayout.Parse(pattern));
        Assert.Contains(because, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("foo.done", "does not match the marker layout")]
    [InlineData("a__2019.done", "does not match the marker layout")]
    [InlineData("a__20190312", "does not match the marker layout")]
    [InlineData("A__20190312.done", "does not match the marker layout")]
    [InlineData("a__20190312.done.tmp", "does not match the marker layout")]
    [InlineData("sub/a__20190312.done", "does not match the marker layout")]
    [InlineData("a__20191399.done", "'20191399' is not a valid date or hour")]
    [InlineData("a__2019031224.done", "'2019031224' is not a valid date or hour")]
    [InlineData("a___b__20190312.done", "may not contain '__'")]
    public void Malformed_marker_names_give_a_reason_and_no_key(string name, string reason)
    {
        var result = MarkerLayout.Default.ParseName(name);

        Assert.Null(result.Key);
        Assert.NotNull(result.Error);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_name_does_not_check_that_the_job_exists()
    {
        Assert.Equal(Build.Key("nobody", "20190312"), MarkerLayout.Default.ParseName("nobody__20190312.done").Key);
    }

    [Fact]
    public void Any_valid_job_and_partition_roundtrip_through_the_default_and_a_folder_layout()
    {
        var layouts = new[] { MarkerLayout.Default, MarkerLayout.Parse("{partition}/{job}.done"), MarkerLayout.Parse("done/{job}-{partition}.done") };
        var name = Gen.String[Gen.Char["abz09_-"], 1, 12].Where(JobName.IsValid);
        var partition = Gen.Select(Gen.Int[0, 3650], Gen.Int[-1, 23], (days, hour) =>
        {
            var date = new DateOnly(2015, 1, 1).AddDays(days);
            return hour < 0 ? Partition.Day(date) : Partition.Hour(date, hour);
        });

        Gen.Select(name, partition).Sample((job, p) =>
        {
            var key = new RunKey(job, p);
            return layouts.All(l => l.ParseName(l.Format(key)).Key == key);
        });
    }

    [Fact]
    public void A_custom_layout_refuses_a_job_name_no_pipeline_could_have()
    {
        var name = new string('a', 300);

        var result = MarkerLayout.Parse("{partition}/{job}.done").ParseName($"20190312/{name}.done");

        Assert.Null(result.Key);
        Assert.Contains("is not a valid job name", result.Error, StringComparison.Ordinal);
    }
}
