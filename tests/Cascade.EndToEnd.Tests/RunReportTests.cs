using System.Globalization;
using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Counts and times that agree (issue 8, item 17): `run`'s summary and `status` count the same runs,
/// lines come in time order, a duration is the attempt's own, cancelled runs say so, and filters that
/// match nothing say that.
/// </summary>
public sealed partial class RunReportTests(DemoFixture demo) : IClassFixture<DemoFixture>
{
    [GeneratedRegex(@"^(\d\d:\d\d:\d\d\.\d\d\d) (.*)$", RegexOptions.Multiline)]
    private static partial Regex StampedLine();

    [GeneratedRegex(@"(\d+) succeeded")]
    private static partial Regex Succeeded();

    [Fact]
    public void Regression_8_17_run_summary_counts_the_runs_status_counts()
    {
        demo.Run.AssertExitCode(0);
        var summary = demo.Run.StdOut.Split('\n').Single(l => l.StartsWith("idle:", StringComparison.Ordinal));
        Assert.Contains("58 succeeded (2 done by markers)", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_17_status_counts_agree_with_run()
    {
        var status = (await CascadeCli.RunAsync(demo.Demo, "status")).AssertExitCode(0);
        var run = demo.Run.StdOut.Split('\n').Single(l => l.StartsWith("idle:", StringComparison.Ordinal));
        var last = status.StdOut.TrimEnd().Split('\n')[^1];
        Assert.Equal(Succeeded().Match(run).Groups[1].Value, Succeeded().Match(last).Groups[1].Value);
    }

    [Fact]
    public void Regression_8_17_run_lines_come_in_time_order_and_a_duration_fits_between_its_lines()
    {
        var lines = StampedLine().Matches(demo.Run.StdOut + demo.Run.StdErr)
            .Select(m => (At: TimeSpan.ParseExact(m.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture), Text: m.Groups[2].Value))
            .ToList();
        var stdout = StampedLine().Matches(demo.Run.StdOut).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(stdout.Order(StringComparer.Ordinal), stdout);
        Assert.Contains(lines, l => l.Text.StartsWith("ready:", StringComparison.Ordinal));

        var checkedOne = false;
        foreach (var done in lines.Where(l => l.Text.Contains("  succeeded in ", StringComparison.Ordinal)))
        {
            var run = done.Text[..done.Text.IndexOf("  succeeded in ", StringComparison.Ordinal)];
            var started = lines.Last(l => l.Text.StartsWith(run + "  started", StringComparison.Ordinal) && l.At <= done.At);
            var seconds = double.Parse(done.Text[(done.Text.LastIndexOf(' ') + 1)..].TrimEnd('s'), CultureInfo.InvariantCulture);
            Assert.True(seconds <= (done.At - started.At).TotalSeconds + 0.01, $"{done.Text}: longer than the {(done.At - started.At).TotalSeconds:0.000}s between its lines");
            checkedOne = true;
        }

        Assert.True(checkedOne);
    }

    [Fact]
    public async Task Regression_8_17_a_filter_that_matches_nothing_says_so_and_states_are_read_in_any_case()
    {
        var none = (await CascadeCli.RunAsync(demo.Demo, "status", "--state", "Failed")).AssertExitCode(0);
        Assert.Contains("No runs match --state failed", none.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("No runs yet", none.StdOut, StringComparison.Ordinal);

        var some = (await CascadeCli.RunAsync(demo.Demo, "status", "--state", "SUCCEEDED", "--job", "sessions")).AssertExitCode(0);
        Assert.Contains("2 run(s): 2 succeeded", some.StdOut, StringComparison.Ordinal);

        var unknown = (await CascadeCli.RunAsync(demo.Demo, "status", "--state", "cancelled")).AssertExitCode(1);
        Assert.Contains("waiting, queued, running, succeeded, failed, timed_out, upstream_failed, superseded", unknown.StdErr, StringComparison.Ordinal);
        Assert.Contains("--state failed", unknown.StdErr, StringComparison.Ordinal);
    }
}
