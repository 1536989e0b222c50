using System.Globalization;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;

namespace Cascade.Engine.Tests.Executors;

/// <summary>
/// The executor contract for <see cref="PosixSpawnExecutor"/>, and what is its own (ADR 13): the
/// log file is the command's stdout and stderr (no pipes), output is kept byte for byte, exits
/// are collected by one thread for many children, and a background child that keeps the output
/// open no longer holds the attempt.
/// </summary>
public sealed class PosixSpawnExecutorTests : ExecutorContract
{
    [Fact]
    public async Task The_log_file_itself_is_the_commands_stdout_and_stderr_and_stdin_is_dev_null()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        // Twice: the second command usually writes into a spare made ahead and named while it runs.
        for (var i = 0; i < 2; i++)
        {
            var log = LogPath($"fds-{i}");
            var outcome = await executor.ExecuteAsync(Activation("sh", "-c", "readlink /proc/$$/fd/0; stat -L -c %d:%i /proc/$$/fd/1 /proc/$$/fd/2"), Context(log), CancellationToken.None).WaitAsync(Bound);

            Assert.Equal(new AttemptOutcome.Exited(0), outcome);
            var file = (await RunAsync(executor, "stat", "-c", "%d:%i", log)).Log;
            Assert.Equal($"/dev/null\n{file}{file}", Read(log));
        }
    }

    [Fact]
    public async Task Output_is_kept_byte_for_byte_and_a_killed_line_starts_a_line_of_its_own()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        using var cancel = new CancellationTokenSource();
        var log = LogPath("bytes");
        var attempt = executor.ExecuteAsync(Activation("sh", "-c", "printf 'a\\rb\\r\\nc\\377d'; echo $$ > child.pid; sleep 60"), Context(log) with { KillReason = () => "cancelled" }, cancel.Token);
        await ChildPidAsync();

        await cancel.CancelAsync();

        Assert.Equal(new AttemptOutcome.Killed(), await attempt.WaitAsync(Bound));
        Assert.Equal([.. "a\rb\r\nc"u8, 0xFF, .. "d\n[cascade] killed: cancelled\n"u8], await File.ReadAllBytesAsync(log));
    }

    [Fact]
    public async Task A_log_made_ahead_gets_its_name_while_the_command_runs_and_replaces_an_old_log_of_the_attempt()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        await RunAsync(executor, "true"); // leaves spares being made in this folder
        await WaitUntilAsync(() => LogFileSpares.ReadyCount > 0, "a spare log file to be made");
        var log = LogPath("again");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        await File.WriteAllTextAsync(log, "the log of an earlier scheduler's try of this attempt\n");

        var attempt = executor.ExecuteAsync(Activation("sh", "-c", "echo first; echo $$ > child.pid; while [ ! -f go ]; do sleep 0.02; done; echo second"), Context(log), CancellationToken.None);
        await ChildPidAsync();

        Assert.Equal("first\n", Read(log));
        await File.WriteAllTextAsync(Path.Combine(Dir, "go"), string.Empty);
        Assert.Equal(new AttemptOutcome.Exited(0), await attempt.WaitAsync(Bound));
        Assert.Equal("first\nsecond\n", Read(log));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(log)!, "*.tmp"));
    }

    [Fact]
    public async Task A_log_that_cannot_be_created_fails_the_attempt_and_leaves_no_command_running()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        // With and without a spare at hand: a file stands where the log's folder should be.
        await File.WriteAllTextAsync(Path.Combine(Dir, "blocker"), string.Empty);
        for (var i = 0; i < 2; i++)
        {
            await RunAsync(executor, "true");
            if (i == 1)
            {
                await WaitUntilAsync(() => LogFileSpares.ReadyCount > 0, "a spare log file to be made");
            }

            var log = Path.Combine(Dir, "blocker", $"{i}.log");
            var error = await Assert.ThrowsAsync<IOException>(() => executor.ExecuteAsync(Activation("sh", "-c", "echo $$ > child.pid; sleep 60"), Context(log), CancellationToken.None).WaitAsync(Bound));

            Assert.StartsWith($"cannot create the log file {log}: ", error.Message, StringComparison.Ordinal);
            var pidFile = Path.Combine(Dir, "child.pid");
            if (File.Exists(pidFile) && File.ReadAllText(pidFile).Trim() is { Length: > 0 } pid)
            {
                await WaitUntilAsync(() => !IsAlive(int.Parse(pid, CultureInfo.InvariantCulture)), "the command whose log could not be named to be gone");
                File.Delete(pidFile);
            }
        }
    }

    [Fact]
    public async Task Stdout_and_stderr_interleave_in_the_order_they_were_written()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var (_, log) = await RunAsync(executor, "sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2");

        Assert.Equal("1\n2\n3\n4\n", log);
    }

    [Fact]
    public async Task Two_hundred_commands_at_once_are_each_reaped_with_their_own_exit_code_by_one_waiter()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        // Every command blocks on a lock the test holds until all 200 run, so they overlap for sure.
        var gate = Path.Combine(Dir, "gate.lock");
        var started = 0;
        var threads = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        Task<(AttemptOutcome Outcome, string Log)>[] attempts;
        await using (new FileStream(gate, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            attempts = [.. Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            {
                var log = LogPath($"many-{i}");
                var context = Context(log) with { Started = () => Interlocked.Increment(ref started) };
                var outcome = await executor.ExecuteAsync(Activation("sh", "-c", $"echo $$; flock -s gate.lock true; exit {i % 7}"), context, CancellationToken.None);
                return (outcome, Read(log));
            }))];
            await WaitUntilAsync(() => Volatile.Read(ref started) == 200, "all 200 commands to start");
            Assert.DoesNotContain(attempts, a => a.IsCompleted);
            Assert.True(System.Diagnostics.Process.GetCurrentProcess().Threads.Count < threads + 100, "a thread per child?");
        }

        var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(60));

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(new AttemptOutcome.Exited(i % 7), results[i].Outcome);
            var pid = int.Parse(results[i].Log.Trim(), CultureInfo.InvariantCulture);
            Assert.False(IsOurZombie(pid), $"process {pid} was left a zombie");
        }
    }

    [Fact]
    public async Task A_background_child_that_keeps_the_output_open_does_not_hold_the_attempt()
    {
        if (Executor() is not { } executor)
        {
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (outcome, _) = await RunAsync(executor, "sh", "-c", "sleep 60 & echo $! > child.pid; echo started");
        var child = await ChildPidAsync();
        try
        {
            Assert.Equal(new AttemptOutcome.Exited(0), outcome);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the attempt waited {clock.Elapsed} for its background child");
            Assert.True(IsAlive(child));
        }
        finally
        {
            System.Diagnostics.Process.GetProcessById(child).Kill();
        }
    }

    [Fact]
    public async Task Children_of_Process_and_of_posix_spawn_side_by_side_are_each_collected_by_their_own_waiter()
    {
        if (Executor() is not { } spawn)
        {
            return;
        }

        var process = new ProcessExecutor(Dir);
        var attempts = Enumerable.Range(0, 80).Select(i => Task.Run(async () =>
        {
            var executor = i % 2 == 0 ? spawn : process;
            var (outcome, _) = await RunAsync(executor, "sh", "-c", $"exit {i % 11}");
            return outcome;
        })).ToArray();

        var outcomes = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 80).Select(i => (AttemptOutcome)new AttemptOutcome.Exited(i % 11)), outcomes);
    }

    [Fact]
    public void Posix_spawn_is_the_default_here_and_process_can_be_forced()
    {
        if (Executor() is null)
        {
            return;
        }

        Assert.IsType<PosixSpawnExecutor>(CommandExecutors.Create(Dir, null, _ => null));
        Assert.IsType<PosixSpawnExecutor>(CommandExecutors.Create(Dir, null, _ => "auto"));
        Assert.IsType<PosixSpawnExecutor>(CommandExecutors.Create(Dir, null, _ => "posix_spawn"));
        Assert.IsType<ProcessExecutor>(CommandExecutors.Create(Dir, null, _ => "process"));
        var bad = Assert.Throws<InvalidOperationException>(() => CommandExecutors.Create(Dir, null, _ => "fork"));
        Assert.Equal("CASCADE_EXECUTOR must be auto, process or posix_spawn, not 'fork'", bad.Message);
    }

    protected override IExecutor? Create(string workingDirectory, string? stateIdentity, TimeProvider logClock)
    {
        if (PosixSpawnExecutor.UnsupportedReason is { } reason)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"posix_spawn cannot run here: {reason}");
            return null;
        }

        return new PosixSpawnExecutor(workingDirectory, stateIdentity);
    }

    /// <summary>Whether <paramref name="pid"/> is a dead child of this process nobody collected.</summary>
    private static bool IsOurZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" && fields[1] == Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
