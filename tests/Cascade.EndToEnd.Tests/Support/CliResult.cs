namespace Cascade.EndToEnd.Tests.Support;

/// <summary>What one finished <c>cascade</c> process printed and how it exited.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Both streams, for messages that may go to either.</summary>
    public string Output => StdOut + StdErr;

    /// <summary>Fails with everything the process printed unless it exited with <paramref name="expected"/>.</summary>
    public CliResult AssertExitCode(int expected)
    {
        Assert.True(ExitCode == expected, $"expected exit code {expected}, got {ExitCode}\n{this}");
        return this;
    }

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}
