using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;

namespace Cascade.Engine.Tests.Executors;

/// <summary>A temp folder to run commands in, and the helpers the executor tests share.</summary>
public abstract class ExecutorScratch : IDisposable
{
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cascade-exec-");

    protected string Dir => _dir.FullName;

    /// <summary>A state identity of this test alone: the orphan pass kills every process of its tag.</summary>
    protected string StatePath => Path.Combine(Dir, ".cascade", "state.db");

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dir.Delete(recursive: true);
        }
    }

    protected static Activation Activation(params string[] argv) => new(
        new RunKey("job", Partition.Day(new DateOnly(2019, 3, 12))), 1, 1, "job__20190312__g1a1", argv,
        new Dictionary<string, string>(), new Dictionary<string, string>());

    protected static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
        }
    }

    protected static string Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(file);
        return reader.ReadToEnd();
    }

    /// <summary>A zombie (dead, not yet collected) is not alive.</summary>
    protected static bool IsAlive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    protected static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, $"timed out after {Bound.TotalSeconds:0}s waiting for: {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }
    }

    protected string LogPath(string name) => Path.Combine(Dir, "logs", name + ".log");

    protected AttemptContext Context(string log) => new(Path.Combine(Dir, "m.done"), log);

    protected Task<(AttemptOutcome Outcome, string Log)> RunAsync(IExecutor executor, params string[] argv) =>
        RunAsync(executor, Activation(argv));

    protected async Task<(AttemptOutcome Outcome, string Log)> RunAsync(IExecutor executor, Activation activation, CancellationToken kill = default)
    {
        var log = LogPath(Guid.NewGuid().ToString("N"));
        var outcome = await executor.ExecuteAsync(activation, Context(log), kill).WaitAsync(Bound, CancellationToken.None);
        return (outcome, File.Exists(log) ? Read(log) : string.Empty);
    }

    /// <summary>The pid a command wrote to <c>child.pid</c> in the folder.</summary>
    protected async Task<int> ChildPidAsync()
    {
        var file = Path.Combine(Dir, "child.pid");
        await WaitUntilAsync(() => File.Exists(file) && File.ReadAllText(file).EndsWith('\n'), "the command's child to start");
        return int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
    }
}
