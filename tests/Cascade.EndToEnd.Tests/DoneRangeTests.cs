using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>`cascade done JOB FROM..TO` writes every marker of the range in one process, or none at all.</summary>
public sealed class DoneRangeTests : IDisposable
{
    private const string Pipeline = """
        jobs:
          game_logs:
            run: external
          payments:
            grain: hourly
            run: external
        """;

    private readonly TempWorkspace _ws = new();

    public DoneRangeTests() => _ws.Write("cascade.yaml", Pipeline);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_daily_range_writes_one_marker_per_day_each_with_the_same_body()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "done", "game_logs", "20190301..20190331", "--meta", "rows=5", "--param", "region=eu");

        result.AssertExitCode(0);
        Assert.Equal("wrote 31 marker(s) for game_logs 20190301..20190331", result.StdOut.Trim());
        var expected = Enumerable.Range(1, 31).Select(d => $"markers/game_logs__201903{d:00}.done").ToList();
        Assert.Equal(expected, _ws.Files("markers"));
        Assert.All(expected, f => Assert.Equal("""{"rows":5,"params":{"region":"eu"}}""", _ws.Read(f)));
    }

    [Fact]
    public async Task An_hourly_range_in_either_form_writes_the_24_hours_of_a_day()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019-03-12T00..2019-03-12T23");

        result.AssertExitCode(0);
        Assert.Equal("wrote 24 marker(s) for payments 2019031200..2019031223", result.StdOut.Trim());
        Assert.Equal(Enumerable.Range(0, 24).Select(h => $"markers/payments__20190312{h:00}.done").ToList(), _ws.Files("markers"));
    }

    [Fact]
    public async Task A_range_across_a_month_end_and_a_leap_day_counts_every_partition_once()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "game_logs", "20200227..20200302")).AssertExitCode(0);
        Assert.Equal(
            ["markers/game_logs__20200227.done", "markers/game_logs__20200228.done", "markers/game_logs__20200229.done", "markers/game_logs__20200301.done", "markers/game_logs__20200302.done"],
            _ws.Files("markers"));

        var hours = await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019031222..2019031301");
        hours.AssertExitCode(0);
        Assert.Equal("wrote 4 marker(s) for payments 2019031222..2019031301", hours.StdOut.Trim());
    }

    [Fact]
    public async Task An_existing_marker_in_the_range_refuses_the_whole_range_and_writes_nothing()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019031205", "--meta", "rows=1")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019031217", "--meta", "rows=2")).AssertExitCode(0);

        var result = await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019031200..2019031223", "--meta", "rows=9");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("error: ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("2 of the 24 markers of payments 2019031200..2019031223 exist already (2019031205, 2019031217)", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("nothing was written", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--force", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(["markers/payments__2019031205.done", "markers/payments__2019031217.done"], _ws.Files("markers"));
        Assert.Equal("""{"rows":1}""", _ws.Read("markers/payments__2019031205.done"));

        var forced = await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019031200..2019031223", "--meta", "rows=9", "--force");
        forced.AssertExitCode(0);
        Assert.Contains("wrote 24 marker(s) for payments 2019031200..2019031223 (2 replaced;", forced.StdOut, StringComparison.Ordinal);
        Assert.Equal(24, _ws.Files("markers").Count);
        Assert.Equal("""{"rows":9}""", _ws.Read("markers/payments__2019031205.done"));
    }

    [Theory]
    [InlineData("reversed range", new[] { "done", "game_logs", "20190331..20190301" }, new[] { "the range 20190331..20190301 ends before it starts" })]
    [InlineData("reversed hourly range", new[] { "done", "payments", "2019031223..2019031200" }, new[] { "ends before it starts" })]
    [InlineData("daily range for an hourly job", new[] { "done", "payments", "20190301..20190302" }, new[] { "'payments' is hourly", "2019031205" })]
    [InlineData("hourly range for a daily job", new[] { "done", "game_logs", "2019030100..2019030123" }, new[] { "'game_logs' is daily", "20190312" })]
    [InlineData("grains mixed in one range", new[] { "done", "game_logs", "20190301..2019030105" }, new[] { "'game_logs' is daily" })]
    [InlineData("a bad end", new[] { "done", "game_logs", "20190301..2019-13-45" }, new[] { "'2019-13-45' is not a partition" })]
    [InlineData("an empty end", new[] { "done", "game_logs", "20190301.." }, new[] { "is not a partition" })]
    [InlineData("more than 100,000 markers", new[] { "done", "payments", "2000010100..2019123123" }, new[] { "175,320 partitions", "at most 100,000 markers", "split the range" })]
    public async Task A_bad_range_gets_a_clear_error_and_writes_nothing(string why, string[] args, string[] expected)
    {
        var result = await CascadeCli.RunAsync(_ws.Root, args);

        Assert.True(result.ExitCode == 1, $"{why}: {result}");
        Assert.StartsWith("error: ", result.StdErr, StringComparison.Ordinal);
        foreach (var text in expected)
        {
            Assert.Contains(text, result.StdErr, StringComparison.Ordinal);
        }

        Assert.Equal(["cascade.yaml"], _ws.Files());
    }
}
