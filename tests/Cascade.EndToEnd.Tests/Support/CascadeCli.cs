namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// Runs the real <c>cascade</c> command as a child process: the native binary that the environment
/// variable <c>CASCADE_CLI</c> names (scripts/test.sh publishes the Native AOT build and sets it, so
/// the tests run the product that ships), else <c>dotnet cascade.dll ARGS…</c> with the
/// <c>cascade.dll</c> copied next to the tests by the project reference (the fast inner loop).
/// </summary>
public static class CascadeCli
{
    /// <summary>How long one command may take before it is killed and the test fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "cascade.dll");

    /// <summary>The native binary under test, when <c>CASCADE_CLI</c> names one; it must exist.</summary>
    public static string? NativeBinary { get; } = Native();

    /// <summary>The program to start and the arguments that come before cascade's own.</summary>
    public static (string Program, IReadOnlyList<string> Prefix) Command =>
        NativeBinary is { } binary ? (binary, []) : (DotnetHost(), [DllPath]);

    /// <summary>Runs <c>cascade ARGS…</c> in <paramref name="workdir"/> and waits for it to exit.</summary>
    public static async Task<CliResult> RunAsync(string workdir, params string[] args)
    {
        await using var process = CliProcess.Start(workdir, args);
        return await process.WaitForExitAsync(Timeout);
    }

    /// <summary>Starts a long-running <c>cascade</c> (e.g. <c>run</c>) and returns at once.</summary>
    public static CliProcess Start(string workdir, params string[] args) => CliProcess.Start(workdir, args);

    /// <summary>Starts a long-running <c>cascade</c> with extra environment variables.</summary>
    public static CliProcess Start(string workdir, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        CliProcess.Start(workdir, args, environment);

    /// <summary>The <c>dotnet</c> that runs these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string? Native()
    {
        if (Environment.GetEnvironmentVariable("CASCADE_CLI") is not { Length: > 0 } path)
        {
            return null;
        }

        var full = Path.GetFullPath(path);
        return File.Exists(full)
            ? full
            : throw new InvalidOperationException($"CASCADE_CLI names '{path}', which does not exist: publish it (scripts/aot-publish.sh) or unset CASCADE_CLI");
    }
}
