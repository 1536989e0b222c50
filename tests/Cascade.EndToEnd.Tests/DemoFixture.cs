using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// The README's first steps, done once for the demo tests: <c>cascade init demo</c>, then
/// <c>cascade run --until-idle</c> inside <c>demo/</c>.
/// </summary>
public sealed class DemoFixture : IAsyncLifetime, IDisposable
{
    private readonly TempWorkspace _ws = new();

    public string Demo => _ws.PathOf("demo");

    public CliResult Init { get; private set; } = null!;

    public CliResult Run { get; private set; } = null!;

    /// <summary>When the run started and ended, by the system clock, to bound the times the CLI prints.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public DateTimeOffset EndedAt { get; private set; }

    public async Task InitializeAsync()
    {
        Init = await CascadeCli.RunAsync(_ws.Root, "init", "demo");
        StartedAt = TimeProvider.System.GetUtcNow();
        Run = Init.ExitCode == 0 ? await CascadeCli.RunAsync(Demo, "run", "--until-idle") : new CliResult(-1, "", "init failed");
        EndedAt = TimeProvider.System.GetUtcNow();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _ws.Dispose();
}
