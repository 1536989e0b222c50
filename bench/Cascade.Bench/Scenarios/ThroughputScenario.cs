using System.Diagnostics;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 2: completion events per second through the whole engine (watcher, core, SQLite commits,
/// marker writes) with a no-op executor, for a chain, a wide fan-out and a wide fan-in.
/// </summary>
internal static class ThroughputScenario
{
    public const string Name = "throughput";
    private const string Go = "go";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    /// <summary>Runs at once over all jobs; the no-op executor finishes at once, so this bounds a batch.</summary>
    public const int MaxParallel = 256;

    private sealed record Shape(string Name, string Description, IReadOnlyList<JobSpec> Jobs, int Partitions)
    {
        public int Executed => Jobs.Count(j => !j.IsExternal) * Partitions;
    }

    public static async Task<ScenarioReport> RunAsync(BenchOptions o)
    {
        Shape[] small = [Chain(20, 5), FanOut(100, 2), FanIn(100, 2)];
        var shapes = o.Quick ? small : [Chain(200, 50), FanOut(1000, 10), FanIn(1000, 10)];
        var report = new ScenarioReport(Name, "Throughput (no-op executor)", $"""
            Engine in-process with durable state (SqliteRunStore on disk: WAL, synchronous=NORMAL, one transaction per
            loop batch), FolderMarkerStore watching the folder, and a no-op IExecutor that returns Exited(0) at once (the
            engine then writes the empty marker and feeds the exit back, as for a real command). Max-parallel {MaxParallel}.
            Every shape hangs off one external job 'go' per partition. After Ready, the bench writes all go markers
            (tmp + rename, back to back); the clock runs from just before the first rename to the RunChanged 'succeeded'
            of the last executed run. events/s = executed runs succeeded / that time. Shapes: {string.Join("; ", shapes.Select(s => $"{s.Name}: {s.Description} × {s.Partitions} partitions = {s.Executed:N0} runs"))}.
            Before the measured runs, one unmeasured round of the small shapes (chain of 20 × 5, fan-out and fan-in of
            100 × 2) warms the JIT, as a long-running scheduler is warm (the reaction scenario has warm-up events too).
            """);
        report.Parameters["max_parallel"] = MaxParallel;
        foreach (var s in shapes)
        {
            report.Parameters[s.Name] = $"{s.Description} × {s.Partitions} partitions = {s.Executed} runs";
        }

        if (!o.Quick)
        {
            foreach (var shape in small)
            {
                await RunOnceAsync(null, 0, shape);
            }
        }

        for (var run = 1; run <= o.Runs; run++)
        {
            foreach (var shape in shapes)
            {
                await RunOnceAsync(report, run, shape);
            }

            report.Record("floor: empty files created per second, one thread, same file system", "/s", CreateRate(o.Quick ? 2_000 : 20_000));
        }

        report.Note("every executed run leaves a marker file; the engine cannot finish runs faster than this file system creates files (the 'floor' line, measured between the runs)");
        return report;
    }

    /// <summary>
    /// The file system's own pace: <paramref name="count"/> empty files created (open with
    /// O_CREAT|O_EXCL, close) one after the other in a fresh folder beside the scenario's, named as
    /// markers are. A ceiling on completion events per second: each one leaves a marker file.
    /// </summary>
    private static double CreateRate(int count)
    {
        using var dir = Workdir.Create(Name + "-floor");
        var folder = Path.Combine(dir.Root, "markers");
        Directory.CreateDirectory(folder);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            using var handle = File.OpenHandle(Path.Combine(folder, $"j{i:00000}__20190312.done"), FileMode.CreateNew, FileAccess.Write);
        }

        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static Shape Chain(int length, int partitions) =>
        new("chain", $"go → c1 → … → c{length} (each after the previous)", [new JobSpec(Go, []), .. Enumerable.Range(1, length).Select(i => new JobSpec($"c{i:000}", [i == 1 ? Go : $"c{i - 1:000}"]))], partitions);

    private static Shape FanOut(int width, int partitions) =>
        new("fan-out", $"go → {width} children", [new JobSpec(Go, []), .. Enumerable.Range(1, width).Select(i => new JobSpec($"f{i:0000}", [Go]))], partitions);

    private static Shape FanIn(int width, int partitions)
    {
        var roots = Enumerable.Range(1, width).Select(i => new JobSpec($"r{i:0000}", [Go])).ToList();
        return new("fan-in", $"go → {width} jobs → 1 sink after all {width}", [new JobSpec(Go, []), .. roots, new JobSpec("sink", roots.Select(r => r.Name).ToList())], partitions);
    }

    /// <summary>One run of one shape; with no report, a warm-up whose figures are not kept.</summary>
    private static async Task RunOnceAsync(ScenarioReport? report, int run, Shape shape)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline(shape.Jobs);
        var pipeline = EngineHost.Load(dir.PipelineFile);
        var expected = shape.Executed;
        var done = 0;
        var end = 0L;
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(dir, pipeline, new NoopExecutor(), MaxParallel, service =>
        {
            service.RunChanged += change =>
            {
                if (change.Event == "succeeded" && change.Run.Key.Job != Go && ++done == expected)
                {
                    end = Stopwatch.GetTimestamp();
                    finished.TrySetResult();
                }
            };
        });
        var commitsBefore = host.Service.Counters.Commits;
        var paths = Enumerable.Range(0, shape.Partitions).Select(p => Producer.Prepare(dir.MarkerPath(Go, Workdir.Day(p)))).ToArray();
        var start = 0L;
        foreach (var path in paths)
        {
            var at = Producer.Publish(path);
            start = start == 0 ? at : start;
        }

        var timedOut = false;
        try
        {
            await finished.Task.WaitAsync(Bound, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            timedOut = true;
            end = Stopwatch.GetTimestamp();
        }

        var seconds = Stats.Ms(start, end) / 1000;
        var completed = timedOut ? Volatile.Read(ref done) : expected;
        var commits = host.Service.Counters.Commits - commitsBefore;
        if (report is null)
        {
            return;
        }

        report.Record($"{shape.Name}: completion events/s", "/s", completed / seconds, Target.AtLeast(20_000));
        report.Record($"{shape.Name}: wall time", "s", seconds);
        report.RunDetails.Add(new JsonObject
        {
            ["run"] = run,
            ["shape"] = shape.Name,
            ["runs_succeeded"] = completed,
            ["expected"] = expected,
            ["seconds"] = Math.Round(seconds, 4),
            ["commits"] = commits,
            ["runs_per_commit"] = commits == 0 ? null : Math.Round((double)completed / commits, 2),
            ["timed_out"] = timedOut,
        });
        if (timedOut)
        {
            report.Note($"run {run} {shape.Name}: only {completed} of {expected} runs succeeded within {Bound.TotalSeconds:0}s");
        }
    }
}
