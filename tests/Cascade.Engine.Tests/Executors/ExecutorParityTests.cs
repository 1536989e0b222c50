using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;

namespace Cascade.Engine.Tests.Executors;

/// <summary>
/// <see cref="PosixSpawnExecutor"/> gives a command what <see cref="ProcessExecutor"/> gave it, and
/// fails to start it with the same words: both run side by side here and are compared.
/// </summary>
public sealed class ExecutorParityTests : ExecutorScratch
{
    public static TheoryData<string, string[]> StartFailures => new()
    {
        { "a bare name not on PATH", ["no-such-program-of-cascade"] },
        { "a relative path that does not exist", ["./jobs/missing.sh"] },
        { "an absolute path that does not exist", ["/no/such/program"] },
        { "a file without the execute bit", ["./jobs/plain.sh"] },
        { "a folder", ["./jobs"] },
        { "a bare name of a folder on PATH only", ["jobs"] },
        { "a script whose interpreter does not exist", ["./jobs/orphan-interpreter.sh"] },
        { "an executable that is no program", ["./jobs/garbage"] },
    };

    [Theory]
    [MemberData(nameof(StartFailures))]
    public async Task A_command_that_cannot_start_fails_with_the_same_reason_and_log_from_both(string what, string[] argv)
    {
        if (Spawn() is not { } spawn)
        {
            return;
        }

        WriteJobs();
        var before = await RunAsync(new ProcessExecutor(Dir), argv);
        var after = await RunAsync(spawn, argv);

        Assert.IsType<AttemptOutcome.NotStarted>(before.Outcome);
        Assert.True(before == after, $"{what}: Process said {before}, posix_spawn {after}");
    }

    [Fact]
    public async Task A_missing_working_directory_fails_both_with_the_same_reason()
    {
        if (Spawn(Path.Combine(Dir, "gone")) is not { } spawn)
        {
            return;
        }

        var before = await RunAsync(new ProcessExecutor(Path.Combine(Dir, "gone")), "true");
        var after = await RunAsync(spawn, "true");

        Assert.IsType<AttemptOutcome.NotStarted>(before.Outcome);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Both_give_the_command_the_same_environment_folder_signal_dispositions_and_mask()
    {
        if (Spawn() is not { } spawn)
        {
            return;
        }

        string[] argv = ["sh", "-c", "env | sort; pwd; grep -E '^Sig(Blk|Ign)' /proc/self/status; umask"];
        var before = await RunAsync(new ProcessExecutor(Dir, StatePath), argv);
        var after = await RunAsync(Spawn(Dir, StatePath)!, argv);

        Assert.Equal(new AttemptOutcome.Exited(0), after.Outcome);
        Assert.Equal(before.Log, after.Log);
    }

    private PosixSpawnExecutor? Spawn(string? workingDirectory = null, string? stateIdentity = null)
    {
        if (PosixSpawnExecutor.UnsupportedReason is { } reason)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"posix_spawn cannot run here: {reason}");
            return null;
        }

        return new PosixSpawnExecutor(workingDirectory ?? Dir, stateIdentity);
    }

    private void WriteJobs()
    {
        var jobs = Directory.CreateDirectory(Path.Combine(Dir, "jobs")).FullName;
        File.WriteAllText(Path.Combine(jobs, "plain.sh"), "echo hi\n");
        File.WriteAllText(Path.Combine(jobs, "orphan-interpreter.sh"), "#!/no/such/interpreter\necho hi\n");
        File.WriteAllBytes(Path.Combine(jobs, "garbage"), [1, 2, 3, 4, 5, 6, 7, 8]);
        MakeExecutable(Path.Combine(jobs, "orphan-interpreter.sh"));
        MakeExecutable(Path.Combine(jobs, "garbage"));
    }
}
