using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>Exit codes (issue 8, item 13): one scheme for every command, so cron and CI wrappers can trust them.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public ExitCodeTests() => _ws.Write("cascade.yaml", """
        jobs:
          upstream: { run: external }
          ok:
            after: [upstream]
            run: { command: [sh, -c, 'exit 0'] }
          bad:
            after: [upstream]
            retries: 0
            run: { command: [sh, -c, 'echo broken; exit 3'] }
          below:
            after: [bad]
            run: { command: [sh, -c, 'exit 0'] }
        """);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Regression_8_13_run_until_idle_exits_1_when_a_run_it_ran_failed_and_0_once_nothing_it_ran_broke()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        var broke = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(1);
        Assert.Contains("1 failed", broke.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 upstream_failed", broke.StdOut, StringComparison.Ordinal);

        // The next invocation runs nothing: nothing it ran broke (the old failure is not its own).
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        // A fresh day whose runs all succeed, beside the old failure, exits 0 as well.
        _ws.Write("cascade.yaml", _ws.Read("cascade.yaml").Replace("echo broken; exit 3", "exit 0", StringComparison.Ordinal));
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190313")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
    }

    [Fact]
    public async Task Regression_8_13_bad_usage_exits_2_a_refused_command_1_and_help_lists_the_exit_codes()
    {
        (await CascadeCli.RunAsync(_ws.Root, "status", "--no-such-option")).AssertExitCode(2);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--max-parallel", "x")).AssertExitCode(2);
        (await CascadeCli.RunAsync(_ws.Root, "logs", "ok")).AssertExitCode(2);
        (await CascadeCli.RunAsync(_ws.Root, "why", "nosuchjob", "20190312")).AssertExitCode(1);

        var help = (await CascadeCli.RunAsync(_ws.Root, "--help")).AssertExitCode(0);
        Assert.Contains("Exit codes", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("130", help.StdOut, StringComparison.Ordinal);
        var runHelp = (await CascadeCli.RunAsync(_ws.Root, "run", "--help")).AssertExitCode(0);
        Assert.Contains("2    bad usage", runHelp.StdOut, StringComparison.Ordinal);
    }
}
