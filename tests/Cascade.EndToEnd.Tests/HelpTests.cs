using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>The command line itself: help, unknown commands, missing arguments.</summary>
public sealed class HelpTests : IDisposable
{
    private static readonly string[] _commands = ["init", "validate", "graph", "run", "done", "trigger", "status", "why", "logs"];

    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Help_lists_every_command()
    {
        var result = (await CascadeCli.RunAsync(_ws.Root, "--help")).AssertExitCode(0);

        foreach (var command in _commands)
        {
            Assert.Matches($@"(?m)^\s+{command}\b", result.StdOut);
        }

        var validate = (await CascadeCli.RunAsync(_ws.Root, "validate", "--help")).AssertExitCode(0);
        Assert.Contains("--file", validate.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_command_exits_non_zero_and_names_it()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("frobnicate", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_argument_exits_non_zero_and_names_it()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "done", "some_job");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("PARTITION", result.StdErr, StringComparison.Ordinal);
    }
}
