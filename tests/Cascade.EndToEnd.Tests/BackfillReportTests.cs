using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// What `cascade backfill` reports (issue 8, item 15): a total known up front, every run of its scope
/// counted once by state (whoever started it), broken runs included, and the right advice when the
/// roots are external.
/// </summary>
public sealed partial class BackfillReportTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [GeneratedRegex(@"\d+/(\d+) succeeded")]
    private static partial Regex ProgressTotal();

    [Fact]
    public async Task Regression_8_15_backfill_of_the_demo_from_player_entry_counts_the_chain_its_scheduler_runs()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var demo = _ws.PathOf("demo");

        // Its own scheduler starts player_entry from the game_logs markers before it takes the request:
        // those runs are the backfill's all the same.
        var backfill = (await CascadeCli.RunAsync(demo, "backfill", "--from", "2019-03-11", "--to", "2019-03-12", "--job", "player_entry")).AssertExitCode(0);
        Assert.Contains("56 run(s) of 5 job(s)", backfill.StdOut, StringComparison.Ordinal); // 2 days x (player_entry, sessions, 24 payments, revenue, bi_import)
        Assert.Contains("backfill finished: 56 succeeded, 0 failed, 0 waiting for inputs — of 56 run(s)", backfill.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_15_default_backfill_whose_roots_are_external_is_refused_naming_the_job_to_start_from()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var demo = _ws.PathOf("demo");

        var backfill = (await CascadeCli.RunAsync(demo, "backfill", "--from", "2019-03-11", "--to", "2019-03-12")).AssertExitCode(1);
        Assert.Contains("every root job is external (game_logs)", backfill.StdErr, StringComparison.Ordinal);
        Assert.Contains("cascade backfill --from 2019-03-11 --to 2019-03-12 --job player_entry", backfill.StdErr, StringComparison.Ordinal);

        // Refused: nothing was asked of a scheduler.
        var run = (await CascadeCli.RunAsync(demo, "run", "--until-idle")).AssertExitCode(0);
        Assert.DoesNotContain("backfill", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_15_broken_runs_are_counted_by_state_and_the_total_is_fixed_from_the_start()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              root:
                start: 2019-03-01
                run: { command: [sh, -c, 'sleep 0.3'] }
              mid:
                after: [root]
                retries: 0
                run: { command: [sh, -c, 'test "$CASCADE_DATE" != 2019-03-02'] }
              below:
                after: [mid]
                run: { command: [sh, -c, 'exit 0'] }
            """);

        var backfill = (await CascadeCli.RunAsync(_ws.Root, "backfill", "--from", "2019-03-01", "--to", "2019-03-03", "--max-parallel", "1")).AssertExitCode(1);
        Assert.Contains("9 run(s) of 3 job(s)", backfill.StdOut, StringComparison.Ordinal);
        Assert.Contains("backfill finished: 7 succeeded, 1 failed, 1 upstream_failed, 0 waiting for inputs — of 9 run(s)", backfill.StdOut, StringComparison.Ordinal);
        var totals = ProgressTotal().Matches(backfill.StdOut).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["9"], totals);
    }
}
