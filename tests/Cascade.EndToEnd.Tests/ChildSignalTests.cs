using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// ADR 12: a scheduler started with SIGCHLD ignored (inherited across exec, as a supervisor may
/// leave it) still learns that its commands ended, with either executor. Before, the kernel
/// collected every child at once and `cascade run` waited for ever for its first command.
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
        Assert.Contains("FAILED: exited with code 3", result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
