using System.Diagnostics;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>Runs one line through <c>sh -c</c>, as a user pasting it would, and waits (bounded) for it.</summary>
public static class ShellCommand
{
    public static async Task<CliResult> RunAsync(string workdir, string line, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("sh") { WorkingDirectory = workdir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(line);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("sh did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{line}' did not end within {timeout.TotalSeconds:0}s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
