using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>Issue 8, items 4 and 10: what happens to `cascade` when its state file or disk goes away under it.</summary>
public sealed class StateFileTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private void WritePipeline() => _ws.Write("cascade.yaml", """
        jobs:
          upstream:
            run: external
          down:
            after: [upstream]
            run: { command: [sh, -c, 'echo "$1" >> out.txt', sh, "{partition}"] }
        """);

    [Fact]
    public async Task Regression_8_04_deleting_dot_cascade_under_a_running_scheduler_stops_it_and_the_next_one_runs_each_run_once()
    {
        WritePipeline();
        await using var first = CascadeCli.Start(_ws.Root, "run", "--no-web");
        await first.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);

        Directory.Delete(_ws.PathOf(".cascade"), recursive: true);

        // While the first one lives, a second one is refused, even though the lock file is gone.
        var second = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");
        var firstExit = await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(0, firstExit.ExitCode);
        Assert.Contains($"the state file {_ws.PathOf(".cascade", "state.db")} was deleted", firstExit.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", firstExit.Output, StringComparison.Ordinal);
        Assert.True(
            second.ExitCode == 1 && second.StdErr.Contains("another `cascade run` is using", StringComparison.Ordinal) || second.ExitCode == 0,
            $"the second scheduler neither was refused nor ran cleanly\n{second}");

        // Every later run executes once, by the scheduler that owns the new state.
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        Assert.Equal("20190312\n", _ws.Read("out.txt"));
    }

    [Fact]
    public async Task Regression_8_04_a_second_scheduler_is_refused_while_the_first_runs_even_with_its_lock_file_deleted()
    {
        WritePipeline();
        await using var first = CascadeCli.Start(_ws.Root, "run", "--no-web");
        await first.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);
        File.Delete(_ws.PathOf(".cascade", "state.db.lock"));

        var second = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");

        second.AssertExitCode(1);
        Assert.Contains("another `cascade run` is using", second.StdErr, StringComparison.Ordinal);
        await first.TerminateAsync();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }
}
