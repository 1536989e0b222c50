using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 3: the wall time of a whole DAG of real processes at max-parallel 2 against
/// <c>make -j2</c> doing the same work: one process and one marker file per job on both sides.
/// Whole processes (what a cron job or a CI step pays) next to the engine in-process (what a
/// long-running scheduler pays), per-job cost side by side, and where cascade's time per job goes.
/// </summary>
internal static class DagScenario
{
    public const string Name = "dag";
    private const int Parallel = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    public static async Task<ScenarioReport> RunAsync(BenchOptions o, Machine machine)
    {
        var shapes = o.Quick
            ? new[] { DagShape.Chain(10), DagShape.FanIn(20), DagShape.Layers(3, 5), DagShape.Realistic(5, 3), DagShape.One() }
            : [DagShape.Chain(200), DagShape.FanIn(500), DagShape.Layers(10, 50), DagShape.Realistic(50, 30), DagShape.One()];
        var variants = CascadeVariant.From(o.Cascade);
        var report = new ScenarioReport(Name, "DAG wall time vs make -j2, same work", Method(shapes, variants));
        foreach (var s in shapes)
        {
            report.Parameters[s.Name] = $"{s.Description} ({s.Executed} processes)";
        }

        report.Parameters["max_parallel"] = Parallel;
        report.Parameters["make_recipe"] = "@touch $@";
        report.Parameters["cascade_command"] = "[true]";
        report.Parameters["executor"] = EngineHost.DefaultExecutor(Path.GetTempPath()).GetType().Name;
        foreach (var v in variants)
        {
            report.Parameters[$"cascade_{v.Label}"] = v.Describe();
        }

        if (machine.Make is null)
        {
            report.Note("make is not installed: the make -j2 comparison is skipped (install make for the ratio)");
        }

        if (!variants.Any(v => v.IsNative))
        {
            report.Note("no native binary measured: pass --cascade PATH (scripts/aot-publish.sh prints it) for the shipped form");
        }

        var sides = new List<(string Side, Func<DagShape, JsonObject, Task<double>> Run)>();
        if (machine.Make is not null)
        {
            sides.Add(("make -j2", MakeAsync));
        }

        sides.AddRange(variants.Select(v => ($"cascade {v.Label}", (Func<DagShape, JsonObject, Task<double>>)((s, d) => CascadeProcessAsync(v, s, d)))));
        sides.Add(("engine in-process", (s, d) => CascadeInProcessAsync(s, d, EngineHost.DefaultExecutor, "engine_commits")));
        if (EngineHost.DefaultExecutor(Path.GetTempPath()) is not ProcessExecutor)
        {
            // The same engine with the fallback executor, in the same runs: the executor's share of a job in the engine.
            sides.Add(("engine in-process, ProcessExecutor", (s, d) => CascadeInProcessAsync(s, d, w => new ProcessExecutor(w), "engine_process_commits")));
        }

        // Unmeasured in-process graphs first: the engine's figure is a long-running scheduler's, JIT warm. 50 jobs
        // per executor, so that its code (not precompiled, unlike the framework's Process) has reached tier 1.
        await CascadeInProcessAsync(DagShape.Chain(10), [], _ => new NoopExecutor(), "warm_up_commits");
        await CascadeInProcessAsync(DagShape.Chain(50), [], EngineHost.DefaultExecutor, "warm_up_commits");
        await CascadeInProcessAsync(DagShape.Chain(50), [], w => new ProcessExecutor(w), "warm_up_commits");
        var chain = shapes[0];
        for (var run = 1; run <= o.Runs; run++)
        {
            foreach (var shape in shapes)
            {
                var detail = new JsonObject { ["run"] = run, ["shape"] = shape.Name };
                var walls = new Dictionary<string, double>();

                // Interleaved, and the order rotates from run to run: no side always goes first.
                for (var i = 0; i < sides.Count; i++)
                {
                    var (side, measure) = sides[(i + run - 1) % sides.Count];
                    walls[side] = await measure(shape, detail);
                    detail[side] = Math.Round(walls[side], 4);
                }

                RecordShape(report, shape, sides.Select(s => s.Side).ToList(), walls);
                report.RunDetails.Add(detail);
            }

            await RecordCostAsync(report, chain, o.Quick ? 10 : 200, run);
        }

        Summarize(report, shapes, sides.Select(s => s.Side).ToList());
        return report;
    }

    private static string Method(IReadOnlyList<DagShape> shapes, IReadOnlyList<CascadeVariant> variants) => $"""
        Both sides do the same work: one process and one marker file per job, max-parallel {Parallel}. For each shape the
        bench generates a cascade.yaml and a Makefile of the identical graph. make: each target is a job's marker file
        (markers/JOB__DAY.done), its prerequisites are its inputs' marker files, its recipe `@touch $@`, which GNU make
        execs directly (no shell: the recipe has no shell metacharacters), so one process (touch) per job writes the file.
        cascade: each job runs [true] (no shell, one process) and the engine writes the empty marker itself after exit 0.
        External job 'go' (one marker per day) starts each graph. Whole process, from exec to exit as a cron job or CI
        step pays it, go markers already there and a fresh folder (no state) every time: `make -j{Parallel} all`; and
        {string.Join("; ", variants.Select(v => $"`{v.CommandLine} run --until-idle --max-parallel {Parallel} --quiet` ({v.Label})"))}
        (runtime start-up, pipeline load, creating the state database, rescan, the jobs, shutdown). Engine in-process
        (a long-running scheduler, JIT warmed by unmeasured graphs in this process: a 10-job chain with a no-op executor
        and a 50-job chain with each executor): the engine composed as
        `cascade run` does (its executor: parameter 'executor'; where that is not ProcessExecutor, the same engine with
        ProcessExecutor is a side of its own), started and Ready first; from just
        before the rename of the first go marker (all renamed back to back) to the 'succeeded' commit of the last job.
        Per job = wall ÷ processes. Ratio = cascade ÷ make of the same run. Every run measures each side once per shape,
        interleaved, the order rotating from run to run; the table shows medians. Cost per job (cascade's side, on the
        first shape, a chain, where jobs run one at a time), four ways to run `true` interleaved job by job (the order
        rotating): the OS floor (posix_spawn of /usr/bin/true, no file actions, one variable, blocking waitpid); a bare
        Process.Start of `true` + wait for exit; each executor alone (ExecuteAsync of [true] to its end, a new log
        folder and file per job as the engine gives them: ProcessExecutor with pipes redirected and drained into the
        log file; PosixSpawnExecutor with the log file as the child's stdout and stderr, no pipes), and the ratio of
        the two executors; the engine alone on the chain with a no-op executor (decide, commit, marker write, thread hops; no process); and
        commits per job. Shapes: {string.Join("; ", shapes.Select(s => $"{s.Name}: {s.Description}"))}.
        """;

    private static void RecordShape(ScenarioReport report, DagShape shape, IReadOnlyList<string> sides, Dictionary<string, double> walls)
    {
        foreach (var side in sides)
        {
            report.Record($"{shape.Name}: {side}", "s", walls[side]);
        }

        foreach (var side in sides)
        {
            report.Record($"{shape.Name}: per job, {side}", "ms", walls[side] * 1000 / shape.Executed);
        }

        if (!walls.TryGetValue("make -j2", out var make))
        {
            return;
        }

        foreach (var side in sides.Where(s => s != "make -j2"))
        {
            // The issue's target is on the whole process, for the four DAG shapes (not the 1-job start-up).
            var target = side.StartsWith("cascade ", StringComparison.Ordinal) && !shape.IsStartUp ? Target.AtMost(1.25) : null;
            report.Record($"{shape.Name}: {side} / make", "×", walls[side] / make, target);
        }
    }

    /// <summary>Where a job's time goes on cascade's side, on the chain (one job at a time).</summary>
    private static async Task RecordCostAsync(ScenarioReport report, DagShape chain, int spawns, int run)
    {
        var detail = new JsonObject { ["run"] = run, ["shape"] = "cost" };
        using var dir = Workdir.Create(Name + "-cost");
        if (PosixSpawnExecutor.UnsupportedReason is null)
        {
            var ms = await DagCost.ExecutorsMsAsync(spawns, dir, _ => new DagCost.OsFloor(), d => new DagCost.BareProcess(d), d => new ProcessExecutor(d), d => new PosixSpawnExecutor(d));
            report.Record("cost per job: posix_spawn(/usr/bin/true) + waitpid, nothing else (the OS floor)", "ms", ms[0]);
            report.Record("cost per job: Process.Start(true) + exit, no redirection", "ms", ms[1]);
            report.Record("cost per job: ProcessExecutor [true] (pipes, log file, exit)", "ms", ms[2]);
            report.Record("cost per job: PosixSpawnExecutor [true] (log file as stdout/stderr, no pipes, exit)", "ms", ms[3]);
            report.Record("cost per job: PosixSpawnExecutor / ProcessExecutor", "×", ms[3] / ms[2]);
        }
        else
        {
            var ms = await DagCost.ExecutorsMsAsync(spawns, dir, d => new DagCost.BareProcess(d), d => new ProcessExecutor(d));
            report.Record("cost per job: Process.Start(true) + exit, no redirection", "ms", ms[0]);
            report.Record("cost per job: ProcessExecutor [true] (pipes, log file, exit)", "ms", ms[1]);
            report.Note($"PosixSpawnExecutor and the OS floor not measured: {PosixSpawnExecutor.UnsupportedReason}");
        }

        var engine = await CascadeInProcessAsync(chain, detail, _ => new NoopExecutor(), "noop_commits");
        report.Record($"cost per job: engine alone, {chain.Name}, no-op executor", "ms", engine * 1000 / chain.Executed);
        report.Record($"cost per job: commits per job, {chain.Name}", string.Empty, (double)detail["noop_commits"]!.GetValue<long>() / chain.Executed);
        report.RunDetails.Add(detail);
    }

    /// <summary>One line per shape with the medians side by side, and the start-up/marginal split of whole processes.</summary>
    private static void Summarize(ScenarioReport report, IReadOnlyList<DagShape> shapes, IReadOnlyList<string> sides)
    {
        double Median(string metric) => report.Metrics.FirstOrDefault(m => m.Name == metric)?.Median ?? double.NaN;
        var one = shapes.FirstOrDefault(s => s.IsStartUp);
        foreach (var shape in shapes)
        {
            var parts = sides.Select(side =>
            {
                var wall = Median($"{shape.Name}: {side}");
                var text = $"{side} {Report.Format(wall)} s = {Report.Format(wall * 1000 / shape.Executed)} ms/job";
                var ratio = Median($"{shape.Name}: {side} / make");
                if (!double.IsNaN(ratio))
                {
                    text += $" ({Report.Format(ratio)}×)";
                }

                if (one is not null && !shape.IsStartUp && !side.StartsWith("engine", StringComparison.Ordinal))
                {
                    var marginal = (wall - Median($"{one.Name}: {side}")) * 1000 / (shape.Executed - 1);
                    text += $", {Report.Format(marginal)} ms/job after start-up";
                }

                return text;
            });
            report.Note($"{shape.Name} ({shape.Executed} jobs): {string.Join(" · ", parts)}");
        }
    }

    /// <summary><c>make -j2</c> over the generated Makefile, as a process; returns seconds.</summary>
    private static async Task<double> MakeAsync(DagShape shape, JsonObject detail)
    {
        using var dir = Workdir.Create(Name + "-make");
        await File.WriteAllTextAsync(Path.Combine(dir.Root, "Makefile"), shape.Makefile());
        shape.WriteGoMarkers(dir);
        var result = await Shell.RunAsync("make", [$"-j{Parallel}", "all"], dir.Root, Bound);
        var built = shape.CountBuilt(dir);
        detail["make_exit"] = result.ExitCode;
        if (result.ExitCode != 0 || built != shape.Executed)
        {
            throw new InvalidOperationException($"make -j{Parallel} on {shape.Name} exited {result.ExitCode} and built {built} of {shape.Executed} targets: {result.StdErr}");
        }

        return result.WallMs / 1000;
    }

    /// <summary>The engine in-process, already Ready: first go marker renamed in → last job succeeded; returns seconds.</summary>
    private static async Task<double> CascadeInProcessAsync(DagShape shape, JsonObject detail, Func<string, IExecutor> create, string commitsKey)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline(shape.Jobs);
        var pipeline = EngineHost.Load(dir.PipelineFile);
        var executor = create(dir.Root);

        var done = 0;
        var end = 0L;
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(dir, pipeline, executor, Parallel, service =>
        {
            service.RunChanged += change =>
            {
                if (change.Event == "succeeded" && change.Run.Key.Job != DagShape.Go && Interlocked.Increment(ref done) == shape.Executed)
                {
                    end = Stopwatch.GetTimestamp();
                    finished.TrySetResult();
                }
                else if (change.Event is "failed" or "retry")
                {
                    finished.TrySetException(new InvalidOperationException($"{change.Run.Key} {change.Event}: {change.Run.Reason}"));
                }
            };
        });
        var markers = Enumerable.Range(0, shape.Days).Select(d => Producer.Prepare(dir.MarkerPath(DagShape.Go, Workdir.Day(d)))).ToList();
        var start = 0L;
        foreach (var marker in markers)
        {
            var at = Producer.Publish(marker);
            start = start == 0 ? at : start;
        }

        await finished.Task.WaitAsync(Bound, TimeProvider.System);
        detail[commitsKey] = host.Service.Counters.Commits;
        return Stats.Ms(start, end) / 1000;
    }

    /// <summary><c>cascade run --until-idle</c> as a process, go markers present, no state; returns seconds.</summary>
    private static async Task<double> CascadeProcessAsync(CascadeVariant variant, DagShape shape, JsonObject detail)
    {
        using var dir = Workdir.Create(Name + "-cli");
        dir.WritePipeline(shape.Jobs);
        shape.WriteGoMarkers(dir);
        var result = await variant.RunAsync(dir.Root, Bound, "run", "--until-idle", "--max-parallel", $"{Parallel}", "--quiet");
        var built = shape.CountBuilt(dir);
        detail[$"cascade_{variant.Label}_exit"] = result.ExitCode;
        if (result.ExitCode != 0 || built != shape.Executed)
        {
            throw new InvalidOperationException($"{variant.CommandLine} run on {shape.Name} exited {result.ExitCode} with {built} of {shape.Executed} markers: {result.StdErr}{result.StdOut}");
        }

        return result.WallMs / 1000;
    }
}
