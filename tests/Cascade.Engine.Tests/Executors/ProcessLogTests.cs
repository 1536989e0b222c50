using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Executors;

/// <summary>The attempt's log is live (issue 8, item 14): output reaches the file while the command runs, within one flush period.</summary>
public sealed class ProcessLogTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cascade-log-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Regression_8_14_a_running_commands_output_is_in_its_log_after_one_flush_period_not_at_its_exit()
    {
        var time = new FakeTimeProvider();
        var executor = new ProcessExecutor(_dir.FullName) { Time = time };
        var go = Path.Combine(_dir.FullName, "go");
        var log = Path.Combine(_dir.FullName, "logs", "a.log");
        var activation = new Activation(
            new RunKey("job", Partition.Day(new DateOnly(2019, 3, 12))), 1, 1, "job__20190312__g1a1",
            ["sh", "-c", "echo first; while [ ! -f go ]; do sleep 0.02; done; echo second"],
            new Dictionary<string, string>(), new Dictionary<string, string>());

        var attempt = executor.ExecuteAsync(activation, new AttemptContext(Path.Combine(_dir.FullName, "m.done"), log), CancellationToken.None);

        // The command waits for `go`: its first line must reach the file on a flush tick.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(File.Exists(log) && Read(log).Contains("first\n", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < Bound, "the first line never reached the log while the command ran");
            Assert.False(attempt.IsCompleted, "the command ended before its output was seen");
            time.Advance(executor.LogFlushInterval);
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }

        Assert.DoesNotContain("second", Read(log), StringComparison.Ordinal);
        await File.WriteAllTextAsync(go, string.Empty);
        Assert.Equal(new AttemptOutcome.Exited(0), await attempt.WaitAsync(Bound));
        Assert.Equal("first\nsecond\n", Read(log));
    }

    [Fact]
    public async Task Flush_ticks_from_another_thread_lose_no_line_and_never_throw()
    {
        var time = new FakeTimeProvider();
        var executor = new ProcessExecutor(_dir.FullName) { Time = time };
        using var stop = new CancellationTokenSource();

        // Ticks as fast as possible from another thread while attempts end (a tick that throws faults the ticker).
        var ticker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                time.Advance(executor.LogFlushInterval);
                await Task.Yield();
            }
        });
        for (var i = 0; i < 20; i++)
        {
            var log = Path.Combine(_dir.FullName, "logs", $"{i}.log");
            var activation = new Activation(
                new RunKey("job", Partition.Day(new DateOnly(2019, 3, 12))), 1, i + 1, $"job__20190312__g1a{i + 1}",
                ["sh", "-c", "seq 1 500"], new Dictionary<string, string>(), new Dictionary<string, string>());
            Assert.Equal(new AttemptOutcome.Exited(0), await executor.ExecuteAsync(activation, new AttemptContext(Path.Combine(_dir.FullName, "m.done"), log), CancellationToken.None).WaitAsync(Bound));
            Assert.Equal(500, Read(log).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        await stop.CancelAsync();
        await ticker;
    }

    private static string Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(file);
        return reader.ReadToEnd();
    }
}
