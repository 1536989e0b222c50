namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// Runs the real <c>cascade</c> command as a child process: <c>dotnet cascade.dll ARGS…</c>, with
/// the <c>cascade.dll</c> copied next to the tests by the project reference.
/// </summary>
public static class CascadeCli
{
    /// <summary>How long one command may take before it is killed and the test fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "cascade.dll");

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
}
