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

    [Fact]
    public async Task Regression_8_10_a_full_disk_at_the_first_commit_of_run_is_a_clear_error_and_nothing_is_half_written()
    {
        await using var mounts = new Mounts();
        var disk = _ws.PathOf("disk");
        if (!await mounts.TmpfsAsync(disk, "512k"))
        {
            return;
        }

        WritePipeline();
        _ws.Write("cascade.yaml", _ws.Read("cascade.yaml").Replace("jobs:", "state: sqlite:disk/state.db\njobs:", StringComparison.Ordinal));
        (await CascadeCli.RunAsync(_ws.Root, "status")).AssertExitCode(0); // creates the state
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        Mounts.Fill(disk);

        var run = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"the state file {Path.Combine(disk, "state.db")}: the disk is full", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("disk I/O error", run.Output, StringComparison.Ordinal);
        Assert.False(_ws.Exists("out.txt"), "a command started although its decision could not be stored");
        Assert.DoesNotContain(Directory.EnumerateFiles(disk), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        // Room again: the state is consistent and the run happens, once.
        File.Delete(Path.Combine(disk, "filler"));
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        Assert.Equal("20190312\n", _ws.Read("out.txt"));
    }

    [Fact]
    public async Task Regression_8_10_a_disk_that_fills_under_a_running_scheduler_stops_it_at_its_next_commit_with_a_clear_error()
    {
        await using var mounts = new Mounts();
        var disk = _ws.PathOf("disk");
        if (!await mounts.TmpfsAsync(disk, "512k"))
        {
            return;
        }

        WritePipeline();
        _ws.Write("cascade.yaml", _ws.Read("cascade.yaml").Replace("jobs:", "state: sqlite:disk/state.db\njobs:", StringComparison.Ordinal));
        await using var scheduler = CascadeCli.Start(_ws.Root, "run", "--no-web");
        await scheduler.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);
        Mounts.Fill(disk);

        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        var run = await scheduler.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot write the state file {Path.Combine(disk, "state.db")}: the disk is full", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", run.Output, StringComparison.Ordinal);
        Assert.False(_ws.Exists("out.txt"), "a command started although its decision could not be stored");

        File.Delete(Path.Combine(disk, "filler"));
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        Assert.Equal("20190312\n", _ws.Read("out.txt"));
    }

    [Fact]
    public async Task Regression_8_10_done_on_a_full_disk_is_a_clear_error_and_leaves_no_temporary_file()
    {
        await using var mounts = new Mounts();
        var disk = _ws.PathOf("markers");
        if (!await mounts.TmpfsAsync(disk, "512k"))
        {
            return;
        }

        WritePipeline();
        Mounts.Fill(disk);

        var done = await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312", "--meta", "rows=12");

        Assert.Equal(1, done.ExitCode);
        Assert.Contains($"cannot write marker {Path.Combine(disk, "upstream__20190312.done")}: no space left on the device (the disk is full)", done.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", done.Output, StringComparison.Ordinal);
        Assert.Equal(["filler"], Directory.EnumerateFileSystemEntries(disk).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Regression_8_10_a_read_only_state_is_still_readable_by_status_why_and_history_and_run_says_it_is_read_only()
    {
        WritePipeline();
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        using var view = new TempWorkspace(); // declared first: disposed after the mount on it is gone
        await using var mounts = new Mounts();
        if (!await mounts.ReadOnlyViewAsync(_ws.Root, view.Root))
        {
            return;
        }

        var status = (await CascadeCli.RunAsync(view.Root, "status", "--json")).AssertExitCode(0);
        Assert.Contains("\"down\"", status.StdOut, StringComparison.Ordinal);
        (await CascadeCli.RunAsync(view.Root, "why", "down", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(view.Root, "history", "down", "20190312")).AssertExitCode(0);

        foreach (var args in new[] { new[] { "run", "--until-idle" }, ["trigger", "down", "20190313"], ["done", "upstream", "20190313", "--meta", "a=1"] })
        {
            var write = await CascadeCli.RunAsync(view.Root, args);
            Assert.Equal(1, write.ExitCode);
            Assert.Contains("read-only", write.StdErr, StringComparison.Ordinal);
            Assert.Contains(view.Root, write.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", write.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("readonly database", write.Output, StringComparison.Ordinal);
        }
    }
}
