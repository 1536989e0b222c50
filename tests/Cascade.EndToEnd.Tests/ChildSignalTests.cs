using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// ADR 13: a scheduler started with SIGCHLD ignored (inherited across exec, as a supervisor may
/// leave it) still learns that its commands ended, with either executor (before, the kernel
/// collected every child at once and `cascade run` waited for ever for its first command); and as
/// pid 1, where .NET collects every child, commands start through Process.
/// </summary>
public sealed class ChildSignalTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public ChildSignalTests() => _ws.Write("cascade.yaml", """
        jobs:
          first: { run: { command: [sh, -c, 'exit 0'] } }
          second:
            after: [first]
            retries: 0
            run: { command: [sh, -c, 'exit 3'] }
        """);

    public void Dispose() => _ws.Dispose();

    [Theory]
    [InlineData("auto")]
    [InlineData("process")]
    public async Task Regression_a_scheduler_started_with_SIGCHLD_ignored_waited_for_ever_for_its_first_command(string executor)
    {
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "first", "20190312")).AssertExitCode(0);
        var (program, prefix) = CascadeCli.Command;
        var cascade = string.Join(' ', new[] { program }.Concat(prefix).Select(Quote));

        // bash passes an ignored signal on to what it execs (dash resets it).
        var result = await ShellCommand.RunAsync(_ws.Root, $"CASCADE_EXECUTOR={executor} exec bash -c \"trap '' CHLD; exec {cascade.Replace("\"", "\\\"", StringComparison.Ordinal)} run --until-idle\"", TimeSpan.FromSeconds(60));

        result.AssertExitCode(1); // second failed with its own exit code, so the run broke something
        Assert.Contains("1 succeeded", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 failed", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("FAILED: exited with code 3", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task As_pid_1_commands_start_through_Process_because_dotnet_then_collects_every_child()
    {
        // A new pid namespace makes `cascade run` pid 1, as in a container without an init (needs root).
        var probe = await ShellCommand.RunAsync(_ws.Root, "unshare -fp --mount-proc true", TimeSpan.FromSeconds(30));
        if (probe.ExitCode != 0)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"cannot make a pid namespace (unshare needs root): {probe.StdErr}");
            return;
        }

        (await CascadeCli.RunAsync(_ws.Root, "trigger", "first", "20190312")).AssertExitCode(0);
        var (program, prefix) = CascadeCli.Command;
        var cascade = string.Join(' ', new[] { program }.Concat(prefix).Select(Quote));

        var forced = await ShellCommand.RunAsync(_ws.Root, $"CASCADE_EXECUTOR=posix_spawn unshare -fp --mount-proc {cascade} run --until-idle", TimeSpan.FromSeconds(60));
        forced.AssertExitCode(1);
        Assert.Contains("CASCADE_EXECUTOR=posix_spawn cannot be used here: running as pid 1", forced.StdErr, StringComparison.Ordinal);

        var chosen = await ShellCommand.RunAsync(_ws.Root, $"unshare -fp --mount-proc {cascade} run --until-idle", TimeSpan.FromSeconds(60));
        chosen.AssertExitCode(1);
        Assert.Contains("1 succeeded", chosen.StdOut, StringComparison.Ordinal);
        Assert.Contains("FAILED: exited with code 3", chosen.Output, StringComparison.Ordinal);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
