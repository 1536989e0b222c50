using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 8, item 9: partitions at the edges of the calendar. Every command refuses a partition
/// outside the supported range (1900-01-01..2999-12-31) with an error that states the range and
/// changes nothing; markers outside it are ignored with a warning, and the scheduler keeps running.
/// </summary>
public sealed class CalendarEdgeTests : IAsyncLifetime, IDisposable
{
    private readonly TempWorkspace _ws = new();

    private string Demo => _ws.PathOf("demo");

    public async Task InitializeAsync() => (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("trigger", "revenue", "9999-12-31")]
    [InlineData("trigger", "revenue", "0001-01-01")]
    [InlineData("why", "revenue", "0001-01-01")]
    [InlineData("replay", "revenue", "9999-12-31", "--downstream", "--dry-run")]
    [InlineData("replay", "revenue", "2019-03-12..9999-12-31", "--dry-run")]
    [InlineData("backfill", "--from", "9999-12-30", "--to", "9999-12-31")]
    [InlineData("backfill", "--from", "1899-12-31", "--to", "1900-01-01")]
    [InlineData("done", "game_logs", "30000101")]
    [InlineData("cancel", "revenue", "2019-03-12..9999-12-31")]
    [InlineData("status", "--partition", "99991231")]
    [InlineData("history", "revenue", "18991231")]
    public async Task Regression_8_09_a_partition_outside_the_supported_range_is_a_clear_error_that_changes_nothing(params string[] args)
    {
        var before = _ws.Files("demo");

        var result = await CascadeCli.RunAsync(Demo, args);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("error: ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("outside the supported range of partitions (1900-01-01..2999-12-31", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.Equal(before, _ws.Files("demo"));
    }

    [Fact]
    public async Task Regression_8_09_markers_outside_the_range_on_jobs_with_a_self_offset_are_ignored_and_the_chain_runs()
    {
        _ws.Write("demo/markers/revenue__00010101.done", "");
        _ws.Write("demo/markers/revenue__99991231.done", "");
        _ws.Write("demo/markers/player_entry__99991231.done", "");

        var first = await CascadeCli.RunAsync(Demo, "run", "--until-idle");
        var again = await CascadeCli.RunAsync(Demo, "run", "--until-idle");

        foreach (var run in new[] { first, again })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.DoesNotContain("internal error", run.Output, StringComparison.Ordinal);
            Assert.Contains("revenue__99991231.done", run.Output, StringComparison.Ordinal);
            Assert.Contains("outside the supported range", run.Output, StringComparison.Ordinal);
        }

        Assert.Matches(@"bi_import 20190312 +succeeded", first.Output);
        var status = (await CascadeCli.RunAsync(Demo, "status", "--job", "revenue")).AssertExitCode(0);
        Assert.DoesNotContain("9999", status.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("0001", status.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _ws.Dispose();
}
