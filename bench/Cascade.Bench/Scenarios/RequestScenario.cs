using System.Diagnostics;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;
using Cascade.Core.Model;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 6: a request the CLI leaves (its row committed to the state database, then the lock
/// socket rung, as `cascade trigger` does) → the running scheduler's commit that takes it. With the
/// ring (the shipped path) and, for comparison, without it (the 500 ms inbox poll alone).
/// </summary>
internal static class RequestScenario
{
    public const string Name = "request";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static async Task<ScenarioReport> RunAsync(BenchOptions o)
    {
        var rung = o.Quick ? 50 : 200;
        var polled = o.Quick ? 5 : 40;
        var report = new ScenarioReport(Name, "Request latency", $"""
            Pipeline `go` (external) → `a` (command `true`), engine in-process (SqliteRunStore on disk,
            FolderMarkerStore, an executor that exits 0 at once, the scheduler's lock held and given to it as its doorbell, as
            `cascade run` does), default inbox poll 500 ms. The bench, as `cascade trigger` does, opens its own connection to
            the state database, commits a trigger request for `a` on a new day, takes Stopwatch.GetTimestamp() and then rings
            the lock socket (SchedulerLock.Ring); 'taken' = the first RunChanged of that run (raised after the scheduler's
            commit that marks the request taken). Rung: {rung} requests, each 5 ms after the previous one was taken.
            Poll only (the figure before the doorbell): {polled} requests without the ring, each after a random 0–500 ms
            pause (seeded), so the request lands anywhere in the poll's period. CLI process start-up is not included
            (see the command timings). Percentiles are nearest-rank over the requests of one run.
            """);
        report.Parameters["requests_rung"] = rung;
        report.Parameters["requests_poll_only"] = polled;
        for (var run = 1; run <= o.Runs; run++)
        {
            await RunOnceAsync(report, run, rung, polled);
        }

        return report;
    }

    private static async Task RunOnceAsync(ScenarioReport report, int run, int rung, int polled)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline([new JobSpec("go", []), new JobSpec("a", ["go"])]);
        var pipeline = EngineHost.Load(dir.PipelineFile);
        var total = rung + polled;
        var taken = Enumerable.Range(0, total).Select(_ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

        using var held = SchedulerLock.Acquire(dir.StatePath);
        await using var store = await SqliteRunStore.OpenAsync(dir.StatePath, TimeProvider.System);
        var options = new EngineOptions { LogDirectory = dir.LogDirectory, MaxParallel = 8, RescanInterval = pipeline.Definition.RescanInterval };
        using var service = new SchedulerService(pipeline, options, store, EngineHost.MarkersOf(dir, pipeline), new NoopExecutor(), TimeProvider.System, NullLogger.Instance, doorbell: held);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        service.RunChanged += change =>
        {
            var at = Stopwatch.GetTimestamp();
            var i = Workdir.DayIndex(change.Run.Key.Partition.Date);
            if (change.Run.Key.Job == "a" && i >= 0 && i < total)
            {
                taken[i].TrySetResult(at);
            }
        };
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => service.RunAsync(stop.Token));
        await ready.Task.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System);

        await using var cli = await SqliteRunStore.OpenAsync(dir.StatePath, TimeProvider.System);
        var random = new Random(run);
        var withRing = new List<double>();
        var pollOnly = new List<double>();
        var lost = 0;
        for (var i = 0; i < total; i++)
        {
            var ring = i < rung;
            await Task.Delay(ring ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromMilliseconds(random.Next(500)), TimeProvider.System);
            var key = new RunKey("a", Partition.Day(Workdir.Epoch.AddDays(i)));
            await cli.EnqueueRequestAsync(new Request(Request.Trigger, key, new Dictionary<string, string>(), TimeProvider.System.GetUtcNow()), CancellationToken.None);
            var committed = Stopwatch.GetTimestamp();
            if (ring)
            {
                SchedulerLock.Ring(dir.StatePath);
            }

            try
            {
                var at = await taken[i].Task.WaitAsync(Bound, TimeProvider.System);
                (ring ? withRing : pollOnly).Add(Stats.Ms(committed, at));
            }
            catch (TimeoutException)
            {
                lost++;
            }
        }

        await stop.CancelAsync();
        await running;

        report.Record("rung: request committed→taken p50", "ms", Stats.Percentile(withRing, 50), Target.AtMost(50));
        report.Record("rung: request committed→taken p99", "ms", Stats.Percentile(withRing, 99), Target.AtMost(50));
        report.Record("rung: request committed→taken max", "ms", Stats.Percentile(withRing, 100));
        report.Record("poll only (before): request committed→taken p50", "ms", Stats.Percentile(pollOnly, 50));
        report.Record("poll only (before): request committed→taken p99", "ms", Stats.Percentile(pollOnly, 99));
        report.RunDetails.Add(new JsonObject { ["run"] = run, ["rung"] = withRing.Count, ["poll_only"] = pollOnly.Count, ["lost_over_10s"] = lost });
        if (lost > 0)
        {
            report.Note($"run {run}: {lost} request(s) not taken within {Bound.TotalSeconds:0} s (left out of the percentiles)");
        }
    }
}
