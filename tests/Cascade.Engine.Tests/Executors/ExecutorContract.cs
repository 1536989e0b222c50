using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Executors;

/// <summary>
/// What every process executor does, proven on real processes: inherited by the tests of
/// <see cref="Cascade.Engine.Executors.Process.ProcessExecutor"/> and of
/// <see cref="Cascade.Engine.Executors.Process.PosixSpawnExecutor"/>, which must behave alike.
/// </summary>
public abstract class ExecutorContract : ExecutorScratch
{
    /// <summary>
    /// The executor under test, with <paramref name="logClock"/> as its log flush clock if it has
    /// one; null where it cannot run on this machine (then the test passes vacuously, and fails
    /// when CI=true).
    /// </summary>
    protected abstract IExecutor? Create(string workingDirectory, string? stateIdentity, TimeProvider logClock);

    [Fact]
    public async Task Regression_8_14_a_running_commands_output_is_in_its_log_after_one_flush_period_not_at_its_exit()
    {
        var time = new FakeTimeProvider();
        if (Create(Dir, null, time) is not { } executor)
        {
            return;
        }

        var go = Path.Combine(Dir, "go");
        var log = LogPath("a");
        var attempt = executor.ExecuteAsync(Activation("sh", "-c", "echo first; while [ ! -f go ]; do sleep 0.02; done; echo second"), Context(log), CancellationToken.None);

        // The command waits for `go`: its first line must reach the file on a flush tick (or at once).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(File.Exists(log) && Read(log).Contains("first\n", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < Bound, "the first line never reached the log while the command ran");
            Assert.False(attempt.IsCompleted, "the command ended before its output was seen");
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }

        Assert.DoesNotContain("second", Read(log), StringComparison.Ordinal);
        await File.WriteAllTextAsync(go, string.Empty);
        Assert.Equal(new AttemptOutcome.Exited(0), await attempt.WaitAsync(Bound));
        Assert.Equal("first\nsecond\n", Read(log));
    }

    [Fact]
    public async Task Flush_ticks_from_another_thread_lose_no_line_and_never_throw()
    {
        var time = new FakeTimeProvider();
        if (Create(Dir, null, time) is not { } executor)
        {
            return;
        }

        using var stop = new CancellationTokenSource();

        // Ticks as fast as possible from another thread while attempts end (a tick that throws faults the ticker).
        var ticker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                await Task.Yield();
            }
        });
        for (var i = 0; i < 20; i++)
        {
            var log = LogPath($"{i}");
            Assert.Equal(new AttemptOutcome.Exited(0), await executor.ExecuteAsync(Activation("sh", "-c", "seq 1 500"), Context(log), CancellationToken.None).WaitAsync(Bound));
            Assert.Equal(500, Read(log).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        await stop.CancelAsync();
        await ticker;
    }

    [Fact]
    public async Task The_exit_code_is_the_commands_own()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        Assert.Equal(new AttemptOutcome.Exited(0), (await RunAsync(executor, "true")).Outcome);
        Assert.Equal(new AttemptOutcome.Exited(3), (await RunAsync(executor, "sh", "-c", "exit 3")).Outcome);
        Assert.Equal(new AttemptOutcome.Exited(255), (await RunAsync(executor, "sh", "-c", "exit 255")).Outcome);
    }

    [Fact]
    public async Task A_command_ended_by_a_signal_reports_128_plus_the_signal()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        Assert.Equal(new AttemptOutcome.Exited(143), (await RunAsync(executor, "sh", "-c", "kill -TERM $$")).Outcome);
        Assert.Equal(new AttemptOutcome.Exited(137), (await RunAsync(executor, "sh", "-c", "kill -KILL $$")).Outcome);
    }

    [Fact]
    public async Task The_command_gets_its_values_marker_params_attempt_and_state_tag_on_top_of_the_schedulers_environment()
    {
        if (Create(Dir, StatePath, TimeProvider.System) is not { } executor)
        {
            return;
        }

        var activation = new Activation(
            new RunKey("job", Partition.Day(new DateOnly(2019, 3, 12))), 2, 3, "job__20190312__g2a3", ["env"],
            new Dictionary<string, string> { ["date"] = "2019-03-12", ["run_id"] = "job__20190312__g2a3" },
            new Dictionary<string, string> { ["region"] = "eu west" });
        var (outcome, log) = await RunAsync(executor, activation);

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        var env = log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("2019-03-12", env["CASCADE_DATE"]);
        Assert.Equal("job__20190312__g2a3", env["CASCADE_RUN_ID"]);
        Assert.Equal(Path.Combine(Dir, "m.done"), env["CASCADE_MARKER"]);
        Assert.Equal("""{"region":"eu west"}""", env["CASCADE_PARAMS"]);
        Assert.Equal("3", env["CASCADE_ATTEMPT"]);
        Assert.Equal(Cascade.Engine.Executors.Process.OrphanProcesses.TagFor(StatePath), env["CASCADE_STATE_TAG"]);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), env["PATH"]);
        Assert.Equal(Environment.GetEnvironmentVariable("HOME"), env.GetValueOrDefault("HOME"));
    }

    [Fact]
    public async Task Without_a_state_no_tag_is_set_and_empty_params_are_an_empty_object()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (_, log) = await RunAsync(executor, "env");

        Assert.DoesNotContain("CASCADE_STATE_TAG=", log, StringComparison.Ordinal);
        Assert.Contains("CASCADE_PARAMS={}\n", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_command_runs_in_the_pipelines_folder_and_a_relative_program_is_found_there()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        Directory.CreateDirectory(Path.Combine(Dir, "jobs"));
        await File.WriteAllTextAsync(Path.Combine(Dir, "jobs", "where.sh"), "#!/bin/sh\npwd\necho \"$0\"\n");
        MakeExecutable(Path.Combine(Dir, "jobs", "where.sh"));

        var (outcome, log) = await RunAsync(executor, "./jobs/where.sh");

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        Assert.Equal($"{Dir}\n{Path.Combine(Dir, "jobs", "where.sh")}\n", log);
    }

    [Fact]
    public async Task Arguments_reach_the_command_literally_and_argv0_is_the_program_as_named()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (_, printed) = await RunAsync(executor, "printf", "%s|", "$HOME", "a  b", "*", "`id`;", "'\"", string.Empty, "ünï");
        Assert.Equal("$HOME|a  b|*|`id`;|'\"||ünï|", printed.TrimEnd('\n')); // ProcessExecutor ends every line

        // A bare name is looked up on PATH, and the program sees it as it was named.
        var (_, cmdline) = await RunAsync(executor, "sh", "-c", "tr '\\0' '|' < /proc/$$/cmdline");
        Assert.StartsWith("sh|-c|", cmdline, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdin_is_at_end_of_file_from_the_start()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (outcome, log) = await RunAsync(executor, "sh", "-c", "cat; [ -t 0 ] && echo terminal; echo done");

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        Assert.Equal("done\n", log);
    }

    [Fact]
    public async Task Stdout_and_stderr_both_go_to_the_log()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (_, log) = await RunAsync(executor, "sh", "-c", "echo out; echo err >&2; echo out again");

        Assert.Equal(["err", "out", "out again"], log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Started_is_called_once_the_process_is_under_way()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var started = 0;
        var context = Context(LogPath("s")) with { Started = () => Interlocked.Increment(ref started) };
        var attempt = executor.ExecuteAsync(Activation("sh", "-c", "while [ ! -f go ]; do sleep 0.02; done"), context, CancellationToken.None);

        await WaitUntilAsync(() => Volatile.Read(ref started) == 1, "Started to be called while the command runs");
        Assert.False(attempt.IsCompleted);
        await File.WriteAllTextAsync(Path.Combine(Dir, "go"), string.Empty);
        Assert.Equal(new AttemptOutcome.Exited(0), await attempt.WaitAsync(Bound));
        Assert.Equal(1, started);
    }

    [Fact]
    public async Task A_cancel_kills_the_command_and_its_children_and_the_log_says_why()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        using var cancel = new CancellationTokenSource();
        var log = LogPath("k");
        var context = Context(log) with { KillReason = () => "cancelled by the test" };
        var attempt = executor.ExecuteAsync(Activation("sh", "-c", "sleep 60 & echo $! > child.pid; echo waiting; wait"), context, cancel.Token);
        var child = await ChildPidAsync();

        await cancel.CancelAsync();

        Assert.Equal(new AttemptOutcome.Killed(), await attempt.WaitAsync(Bound));
        await WaitUntilAsync(() => !IsAlive(child), "the command's child to be gone");
        Assert.Equal("waiting\n[cascade] killed: cancelled by the test\n", Read(log));
    }

    [Fact]
    public async Task A_timeout_kills_a_command_that_runs_too_long()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (outcome, log) = await RunAsync(executor, Activation("sleep", "60"), timeout.Token);

        Assert.Equal(new AttemptOutcome.Killed(), outcome);
        Assert.True(clock.Elapsed < Bound, $"the kill took {clock.Elapsed}");
        Assert.Equal("[cascade] killed: the scheduler stopped\n", log);
    }

    [Fact]
    public async Task A_kill_asked_before_the_start_ends_the_attempt_killed()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (outcome, _) = await RunAsync(executor, Activation("sleep", "60"), new CancellationToken(canceled: true));

        Assert.Equal(new AttemptOutcome.Killed(), outcome);
    }

    [Fact]
    public async Task A_program_that_is_not_found_does_not_start_and_its_log_says_why()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (outcome, log) = await RunAsync(executor, "no-such-program-of-cascade", "--x");

        var reason = $"cannot run 'no-such-program-of-cascade': An error occurred trying to start process 'no-such-program-of-cascade' with working directory '{Dir}'. No such file or directory";
        Assert.Equal(new AttemptOutcome.NotStarted(reason), outcome);
        Assert.Equal($"[cascade] {reason}\n", log);
    }

    [Fact]
    public async Task A_program_that_is_not_executable_does_not_start_and_the_reason_names_its_path()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        await File.WriteAllTextAsync(Path.Combine(Dir, "plain.sh"), "echo hi\n");

        var (outcome, _) = await RunAsync(executor, "./plain.sh");

        Assert.Equal(new AttemptOutcome.NotStarted($"cannot run './plain.sh': An error occurred trying to start process '{Path.Combine(Dir, "plain.sh")}' with working directory '{Dir}'. Permission denied"), outcome);
    }

    [Fact]
    public async Task The_attempt_a_dead_scheduler_left_running_is_ended_by_the_next_schedulers_orphan_pass()
    {
        if (Create(Dir, StatePath, TimeProvider.System) is not { } dead || Create(Dir, StatePath, TimeProvider.System) is not { } next)
        {
            return;
        }

        var attempt = dead.ExecuteAsync(Activation("sh", "-c", "sleep 60 & echo $! > child.pid; wait"), Context(LogPath("o")), CancellationToken.None);
        var child = await ChildPidAsync();

        var ended = await next.EndOrphansAsync(CancellationToken.None);

        Assert.Equal(2, ended.Count(e => e.StartsWith("killed process", StringComparison.Ordinal)));
        Assert.Equal(new AttemptOutcome.Exited(137), await attempt.WaitAsync(Bound));
        await WaitUntilAsync(() => !IsAlive(child), "the orphan's child to be gone");
    }

    protected IExecutor? Executor() => Create(Dir, null, TimeProvider.System);
}
