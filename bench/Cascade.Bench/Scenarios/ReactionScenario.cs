using System.Diagnostics;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 1: a marker renamed into the folder → the downstream job's process started (and → its
/// activation decision committed), one new daily partition per event, steady and in bursts.
/// </summary>
internal static class ReactionScenario
{
    public const string Name = "reaction";

    private const string Source = "src";
    private const string Downstream = "dst";
    private const int MaxParallel = 128;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static async Task<ScenarioReport> RunAsync(BenchOptions o)
    {
        var warmup = o.Quick ? 5 : 20;
        var steady = o.Quick ? 100 : 1000;
        var bursts = o.Quick ? 2 : 10;
        var burstSize = o.Quick ? 50 : 100;
        var baseline = o.Quick ? 20 : 200;
        var report = new ScenarioReport(Name, "Reaction latency", $$"""
            Pipeline `src: {run: external}`, `dst: {after: [src], run: {command: [true]} }`, engine in-process
            (FolderMarkerStore watching the folder, SqliteRunStore on disk, the executor `cascade run` picks: parameter
            'executor'), max-parallel {{MaxParallel}}
            (so a burst of {{burstSize}} never waits for a slot). Each event is a new daily partition (consecutive days from
            2000-01-01): the bench writes src__DAY.done.tmp, takes Stopwatch.GetTimestamp() and renames it to src__DAY.done.
            'started' = SchedulerService.AttemptStarted for dst DAY (raised by the executor right after posix_spawn or
            Process.Start returned, i.e. after exec); 'committed' = RunChanged 'started' for dst DAY (raised after the batch's SQLite
            commit, before the process is started). {{warmup}} warm-up events per run are not counted. Steady: {{steady}} events,
            each written {{Interval.TotalMilliseconds:0}} ms after the previous one and not before the previous one's process
            started. Bursts: {{bursts}} bursts of {{burstSize}} renames back to back; the next burst starts after every dst of
            the previous one succeeded, plus 50 ms. Percentiles are nearest-rank over the events of one run; the table
            shows the median of the runs. Baseline (the floor for 'started' on this machine): {{baseline}} sequential
            Process.Start of `true` from this process, set up as ProcessExecutor does (no shell, stdout/stderr/stdin
            redirected), timed around Start() alone.
            """);
        report.Parameters["events_steady"] = steady;
        report.Parameters["bursts"] = bursts;
        report.Parameters["burst_size"] = burstSize;
        report.Parameters["warmup_events"] = warmup;
        report.Parameters["interval_ms"] = Interval.TotalMilliseconds;
        report.Parameters["max_parallel"] = MaxParallel;
        report.Parameters["executor"] = EngineHost.DefaultExecutor(Path.GetTempPath()).GetType().Name;

        for (var run = 1; run <= o.Runs; run++)
        {
            await RunOnceAsync(report, run, warmup, steady, bursts, burstSize, baseline);
        }

        return report;
    }

    private static async Task RunOnceAsync(ScenarioReport report, int run, int warmup, int steady, int bursts, int burstSize, int baseline)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline([new JobSpec(Source, []), new JobSpec(Downstream, [Source])]);
        var pipeline = EngineHost.Load(dir.PipelineFile);
        var total = warmup + steady + (bursts * burstSize);
        var written = new long[total];
        var started = new long[total];
        var committed = new long[total];
        var startedSignal = Enumerable.Range(0, total).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var succeeded = 0;

        await using var host = await EngineHost.StartAsync(dir, pipeline, EngineHost.DefaultExecutor(dir.Root), MaxParallel, service =>
        {
            service.AttemptStarted += a =>
            {
                var at = Stopwatch.GetTimestamp();
                if (a.Key.Job == Downstream && Index(a.Key.Partition.Date, total) is { } i)
                {
                    started[i] = at;
                    startedSignal[i].TrySetResult();
                }
            };
            service.RunChanged += change =>
            {
                var at = Stopwatch.GetTimestamp();
                if (change.Run.Key.Job != Downstream || Index(change.Run.Key.Partition.Date, total) is not { } i)
                {
                    return;
                }

                if (change.Event == "started" && committed[i] == 0)
                {
                    committed[i] = at;
                }
                else if (change.Event == "succeeded")
                {
                    Interlocked.Increment(ref succeeded);
                }
            };
        });

        var lost = 0;
        async Task WaitStartedAsync(int i)
        {
            try
            {
                await startedSignal[i].Task.WaitAsync(Bound, TimeProvider.System);
            }
            catch (TimeoutException)
            {
                lost++;
            }
        }

        // Warm-up, then the steady stream: one event every Interval, never before the previous one started.
        var next = 0L;
        for (var i = 0; i < warmup + steady; i++)
        {
            var path = Producer.Prepare(dir.MarkerPath(Source, Workdir.Day(i)));
            if (i > 0)
            {
                await WaitStartedAsync(i - 1);
            }

            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, TimeProvider.System);
            }

            written[i] = Producer.Publish(path);
            next = written[i] + (long)(Interval.TotalSeconds * Stopwatch.Frequency);
        }

        await WaitStartedAsync(warmup + steady - 1);
        await WaitSucceededAsync(() => Volatile.Read(ref succeeded), warmup + steady);

        // Bursts: burstSize renames back to back; the next burst once the previous one is all done.
        for (var b = 0; b < bursts; b++)
        {
            var first = warmup + steady + (b * burstSize);
            var paths = Enumerable.Range(first, burstSize).Select(i => Producer.Prepare(dir.MarkerPath(Source, Workdir.Day(i)))).ToArray();
            for (var j = 0; j < burstSize; j++)
            {
                written[first + j] = Producer.Publish(paths[j]);
            }

            for (var j = 0; j < burstSize; j++)
            {
                await WaitStartedAsync(first + j);
            }

            await WaitSucceededAsync(() => Volatile.Read(ref succeeded), first + burstSize);
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        var detail = new JsonObject { ["run"] = run, ["lost_or_late_over_30s"] = lost, ["commits"] = host.Service.Counters.Commits };
        Record(report, detail, "steady", written, started, committed, warmup, warmup + steady);
        Record(report, detail, "burst", written, started, committed, warmup + steady, total);
        var spawn = await ProcessStartBaselineAsync(baseline, dir.Root);
        report.Record("baseline: Process.Start(true) alone p50", "ms", Stats.Percentile(spawn, 50));
        report.Record("baseline: Process.Start(true) alone p99", "ms", Stats.Percentile(spawn, 99));
        report.RunDetails.Add(detail);
        if (lost > 0)
        {
            report.Note($"run {run}: {lost} event(s) had no process start within {Bound.TotalSeconds:0}s (left out of the percentiles)");
        }
    }

    private static void Record(ScenarioReport report, JsonObject detail, string mode, long[] written, long[] started, long[] committed, int from, int to)
    {
        var toStart = new List<double>();
        var toCommit = new List<double>();
        for (var i = from; i < to; i++)
        {
            if (started[i] != 0)
            {
                toStart.Add(Stats.Ms(written[i], started[i]));
            }

            if (committed[i] != 0)
            {
                toCommit.Add(Stats.Ms(written[i], committed[i]));
            }
        }

        report.Record($"{mode}: marker→process started p50", "ms", Stats.Percentile(toStart, 50), Target.AtMost(2));
        report.Record($"{mode}: marker→process started p90", "ms", Stats.Percentile(toStart, 90));
        report.Record($"{mode}: marker→process started p99", "ms", Stats.Percentile(toStart, 99), Target.AtMost(10));
        report.Record($"{mode}: marker→process started max", "ms", Stats.Percentile(toStart, 100));
        report.Record($"{mode}: marker→decision committed p50", "ms", Stats.Percentile(toCommit, 50));
        report.Record($"{mode}: marker→decision committed p90", "ms", Stats.Percentile(toCommit, 90));
        report.Record($"{mode}: marker→decision committed p99", "ms", Stats.Percentile(toCommit, 99));
        report.Record($"{mode}: marker→decision committed max", "ms", Stats.Percentile(toCommit, 100));
        detail[$"{mode}_events"] = toStart.Count;
    }

    /// <summary>The time <see cref="Process.Start()"/> of <c>true</c> takes here, set up as ProcessExecutor does.</summary>
    private static async Task<List<double>> ProcessStartBaselineAsync(int count, string workdir)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var info = new ProcessStartInfo("true")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                WorkingDirectory = workdir,
            };
            using var process = new Process { StartInfo = info };
            var before = Stopwatch.GetTimestamp();
            process.Start();
            times.Add(Stats.MsSince(before));
            process.StandardInput.Close();
            await process.WaitForExitAsync();
        }

        return times;
    }

    private static async Task WaitSucceededAsync(Func<int> count, int expected)
    {
        var clock = Stopwatch.StartNew();
        while (count() < expected && clock.Elapsed < Bound)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }
    }

    private static int? Index(DateOnly date, int total)
    {
        var i = Workdir.DayIndex(date);
        return i >= 0 && i < total ? i : null;
    }
}
