using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// `cascade logs` (issue 8, item 14): the output of a running attempt is there while it runs,
/// `--follow` tails it to its end, every generation's logs are reachable, an attempt that never
/// started says why, and a cancelled attempt's log says it was cancelled.
/// </summary>
public sealed class LiveLogTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly TempWorkspace _ws = new();

    public LiveLogTests()
    {
        // Prints a line, then waits for a file the test creates (not a sleep), then prints more.
        _ws.Write("cascade.yaml", """
            jobs:
              slow:
                retries: 0
                run: { command: [./jobs/slow.sh] }
              broken:
                retries: 0
                run: { command: [./jobs/slow.sh, "{params.missing}"] }
            """);
        _ws.WriteScript("jobs/slow.sh", """
            #!/bin/sh
            echo "first line of $CASCADE_RUN_ID"
            while [ ! -f go ]; do sleep 0.02; done
            echo "second line"
            """);
    }

    public void Dispose() => _ws.Dispose();

    private async Task<CliProcess> StartSlowRunAsync()
    {
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "slow", "20190312")).AssertExitCode(0);
        var scheduler = CascadeCli.Start(_ws.Root, "run", "--until-idle");
        await scheduler.WaitForOutputAsync(o => o.Contains("slow 20190312  started", StringComparison.Ordinal), "the slow job to start", Bound);
        return scheduler;
    }

    /// <summary>Runs `cascade logs` until its output shows <paramref name="expected"/> (bounded); returns that output.</summary>
    private async Task<string> LogsOnceItShowsAsync(string expected, params string[] extra)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = string.Empty;
        while (clock.Elapsed < Bound)
        {
            last = (await CascadeCli.RunAsync(_ws.Root, ["logs", "slow", "20190312", .. extra])).Output;
            if (last.Contains(expected, StringComparison.Ordinal))
            {
                return last;
            }
        }

        Assert.Fail($"`cascade logs` never showed '{expected}' within {Bound.TotalSeconds:0}s; last output:\n{last}");
        return last;
    }

    [Fact]
    public async Task Regression_8_14_logs_show_a_running_attempts_output_while_it_runs_and_follow_tails_it_to_its_end()
    {
        await using var scheduler = await StartSlowRunAsync();

        // While the command waits for `go`, its first line is already in the log.
        var during = await LogsOnceItShowsAsync("first line of slow__20190312__g1a1");
        Assert.DoesNotContain("second line", during, StringComparison.Ordinal);
        Assert.Contains("(running)", during, StringComparison.Ordinal);

        await using var follow = CascadeCli.Start(_ws.Root, "logs", "slow", "20190312", "--follow");
        await follow.WaitForOutputAsync(o => o.Contains("first line", StringComparison.Ordinal), "--follow to print the first line", Bound);
        Assert.DoesNotContain("second line", follow.StdOut, StringComparison.Ordinal);

        _ws.Write("go", string.Empty);
        var followed = await follow.WaitForExitAsync(Bound);
        followed.AssertExitCode(0);
        Assert.Contains("first line of slow__20190312__g1a1\nsecond line\n", followed.StdOut, StringComparison.Ordinal);
        Assert.Contains("ended (succeeded", followed.StdErr, StringComparison.Ordinal);
        (await scheduler.WaitForExitAsync(Bound)).AssertExitCode(0);
    }

    [Fact]
    public async Task Regression_8_14_follow_without_a_running_scheduler_stops_at_the_end_of_the_file()
    {
        _ws.Write("go", string.Empty);
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "slow", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        var follow = (await CascadeCli.RunAsync(_ws.Root, "logs", "slow", "20190312", "--follow")).AssertExitCode(0);
        Assert.Contains("second line", follow.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_14_every_generations_log_is_reachable_and_history_names_the_generation()
    {
        _ws.Write("go", string.Empty);
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "slow", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "replay", "slow", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        var history = (await CascadeCli.RunAsync(_ws.Root, "history", "slow", "20190312")).AssertExitCode(0);
        Assert.Contains("cascade logs slow 20190312 --generation 1 --attempt 1", history.StdOut, StringComparison.Ordinal);
        Assert.Contains("cascade logs slow 20190312 --generation 2 --attempt 1", history.StdOut, StringComparison.Ordinal);

        var first = (await CascadeCli.RunAsync(_ws.Root, "logs", "slow", "20190312", "--generation", "1", "--attempt", "1")).AssertExitCode(0);
        Assert.Contains("first line of slow__20190312__g1a1", first.StdOut, StringComparison.Ordinal);
        var latest = (await CascadeCli.RunAsync(_ws.Root, "logs", "slow", "20190312")).AssertExitCode(0);
        Assert.Contains("first line of slow__20190312__g2a1", latest.StdOut, StringComparison.Ordinal);

        var none = (await CascadeCli.RunAsync(_ws.Root, "logs", "slow", "20190312", "--generation", "3")).AssertExitCode(1);
        Assert.Contains("generation(s) 1, 2, not 3", none.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_14_an_attempt_that_never_started_says_why_instead_of_naming_a_missing_log()
    {
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "broken", "20190312")).AssertExitCode(0);
        await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");

        var logs = (await CascadeCli.RunAsync(_ws.Root, "logs", "broken", "20190312")).AssertExitCode(1);
        Assert.Contains("never started", logs.StdErr, StringComparison.Ordinal);
        Assert.Contains("params.missing", logs.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("is missing)", logs.StdErr, StringComparison.Ordinal);

        var history = (await CascadeCli.RunAsync(_ws.Root, "history", "broken", "20190312")).AssertExitCode(0);
        Assert.Contains("never started", history.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_14_a_cancelled_attempts_log_and_status_say_cancelled()
    {
        await using var scheduler = await StartSlowRunAsync();
        await LogsOnceItShowsAsync("first line");

        (await CascadeCli.RunAsync(_ws.Root, "cancel", "slow", "20190312")).AssertExitCode(0);
        var logs = await LogsOnceItShowsAsync("[cascade] killed");
        Assert.Contains("[cascade] killed: cancelled", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("the scheduler stopped", logs, StringComparison.Ordinal);

        var status = (await CascadeCli.RunAsync(_ws.Root, "status")).AssertExitCode(0);
        Assert.Contains("failed (cancelled)", status.StdOut, StringComparison.Ordinal);
        var history = (await CascadeCli.RunAsync(_ws.Root, "history", "slow", "20190312")).AssertExitCode(0);
        Assert.Contains("failed (cancelled)", history.StdOut, StringComparison.Ordinal);
        _ws.Write("go", string.Empty);
    }
}
