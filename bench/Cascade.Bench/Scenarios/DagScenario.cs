using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;
using Cascade.Engine.Executors.Process;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 3: the wall time of a whole DAG of real (no-op) processes at max-parallel 2, next to
/// <c>make -j2</c> building the identical graph of marker files.
/// </summary>
internal static class DagScenario
{
    public const string Name = "dag";
    private const string Go = "go";
    private const int Parallel = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    private sealed record Shape(string Name, string Description, IReadOnlyList<JobSpec> Jobs)
    {
        public int Executed => Jobs.Count(j => !j.IsExternal);

        public IEnumerable<JobSpec> Sinks => Jobs.Where(j => !j.IsExternal && !Jobs.Any(x => x.After.Contains(j.Name)));
    }

    public static async Task<ScenarioReport> RunAsync(BenchOptions o, Machine machine)
    {
        var shapes = o.Quick
            ? new[] { Chain(10), FanIn(20), Layers(3, 5) }
            : [Chain(200), FanIn(500), Layers(10, 50)];
        var report = new ScenarioReport(Name, "DAG wall time vs make -j2", $"""
            Every job runs the same no-op command `true` (a real process), max-parallel {Parallel}. The bench generates, for
            each shape, a cascade.yaml and a Makefile of the identical graph: each make target is the job's marker file
            (markers/JOB__20000101.done), its prerequisites are its inputs' marker files, its recipe `@true && touch $@`;
            cascade runs [true] and writes the empty marker itself. One external job 'go' (its marker present for make,
            renamed in for cascade) starts each graph. make: `make -j{Parallel} all` from start to exit. cascade (scheduler
            running): engine in-process, started and Ready first (a scheduler is a long-running service, so its start-up is
            not counted); the clock runs from just before the rename of the go marker to the 'succeeded' commit of the
            last job. cascade run process: `dotnet cascade.dll run --until-idle --max-parallel {Parallel} --quiet` with the
            go marker already there, from process start to exit (includes .NET start-up, pipeline load, creating the
            state database and the rescan). Fresh folders every run; make, cascade and the cascade process alternate
            within a run. Shapes: {string.Join("; ", shapes.Select(s => $"{s.Name}: {s.Description}"))}.
            """);
        foreach (var s in shapes)
        {
            report.Parameters[s.Name] = $"{s.Description} ({s.Executed} processes)";
        }

        report.Parameters["max_parallel"] = Parallel;
        if (machine.Make is null)
        {
            report.Note("make is not installed: the make -j2 comparison is skipped (install make for the ratio)");
        }

        for (var run = 1; run <= o.Runs; run++)
        {
            foreach (var shape in shapes)
            {
                await RunOnceAsync(report, run, shape, machine.Make is not null);
            }
        }

        return report;
    }

    private static Shape Chain(int length) =>
        new($"chain{length}", $"go → j1 → … → j{length}", [new JobSpec(Go, []), .. Enumerable.Range(1, length).Select(i => new JobSpec($"j{i:000}", [i == 1 ? Go : $"j{i - 1:000}"]))]);

    private static Shape FanIn(int width)
    {
        var roots = Enumerable.Range(1, width).Select(i => new JobSpec($"r{i:000}", [Go])).ToList();
        return new($"fanin{width}", $"go → {width} jobs → 1 sink after all {width}", [new JobSpec(Go, []), .. roots, new JobSpec("sink", roots.Select(r => r.Name).ToList())]);
    }

    private static Shape Layers(int layers, int width)
    {
        var jobs = new List<JobSpec> { new(Go, []) };
        IReadOnlyList<string> previous = [Go];
        for (var l = 1; l <= layers; l++)
        {
            var layer = Enumerable.Range(1, width).Select(i => new JobSpec($"l{l:00}_{i:00}", previous)).ToList();
            jobs.AddRange(layer);
            previous = layer.Select(j => j.Name).ToList();
        }

        return new($"layers{layers}x{width}", $"go → {layers} layers of {width}, each job after all {width} of the layer before", jobs);
    }

    private static async Task RunOnceAsync(ScenarioReport report, int run, Shape shape, bool haveMake)
    {
        var detail = new JsonObject { ["run"] = run, ["shape"] = shape.Name };
        double? make = null;
        if (haveMake)
        {
            make = await MakeAsync(shape, detail);
            report.Record($"{shape.Name}: make -j{Parallel}", "s", make.Value);
        }

        var inProcess = await CascadeInProcessAsync(shape, detail);
        report.Record($"{shape.Name}: cascade (scheduler running)", "s", inProcess);
        if (make is { } m)
        {
            report.Record($"{shape.Name}: cascade / make", "×", inProcess / m, Target.AtMost(1.25));
        }

        var process = await CascadeProcessAsync(shape, detail);
        report.Record($"{shape.Name}: cascade run process (incl. start-up)", "s", process);
        if (make is { } m2)
        {
            report.Record($"{shape.Name}: cascade run process / make", "×", process / m2);
        }

        report.RunDetails.Add(detail);
    }

    /// <summary><c>make -j2</c> over the generated Makefile; returns seconds.</summary>
    private static async Task<double> MakeAsync(Shape shape, JsonObject detail)
    {
        using var dir = Workdir.Create(Name + "-make");
        var sb = new StringBuilder();
        sb.Append("# generated by Cascade.Bench: one target per marker file\n.PHONY: all\n");
        sb.Append("all:");
        foreach (var sink in shape.Sinks)
        {
            sb.Append(' ').Append(MakeTarget(sink.Name));
        }

        sb.Append("\n\n");
        foreach (var job in shape.Jobs.Where(j => !j.IsExternal))
        {
            sb.Append(MakeTarget(job.Name)).Append(':');
            foreach (var input in job.After)
            {
                sb.Append(' ').Append(MakeTarget(input));
            }

            sb.Append("\n\t@true && touch $@\n");
        }

        await File.WriteAllTextAsync(Path.Combine(dir.Root, "Makefile"), sb.ToString());
        await File.WriteAllTextAsync(dir.MarkerPath(Go, Workdir.Day(0)), string.Empty);
        var result = await Shell.RunAsync("make", [$"-j{Parallel}", "all"], dir.Root, Bound);
        var built = Directory.EnumerateFiles(dir.MarkerFolder, "*.done").Count() - 1;
        detail["make_exit"] = result.ExitCode;
        detail["make_built"] = built;
        if (result.ExitCode != 0 || built != shape.Executed)
        {
            throw new InvalidOperationException($"make -j{Parallel} on {shape.Name} exited {result.ExitCode} and built {built} of {shape.Executed} targets: {result.StdErr}");
        }

        return result.WallMs / 1000;
    }

    private static string MakeTarget(string job) => $"markers/{job}__{Workdir.Day(0)}.done";

    /// <summary>The engine in-process, already Ready: go marker renamed in → last job succeeded; returns seconds.</summary>
    private static async Task<double> CascadeInProcessAsync(Shape shape, JsonObject detail)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline(shape.Jobs);
        var pipeline = EngineHost.Load(dir.PipelineFile);
        var done = 0;
        var end = 0L;
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(dir, pipeline, new ProcessExecutor(dir.Root), Parallel, service =>
        {
            service.RunChanged += change =>
            {
                if (change.Event == "succeeded" && change.Run.Key.Job != Go && ++done == shape.Executed)
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
        var start = Producer.Publish(Producer.Prepare(dir.MarkerPath(Go, Workdir.Day(0))));
        await finished.Task.WaitAsync(Bound, TimeProvider.System);
        detail["cascade_commits"] = host.Service.Counters.Commits;
        return Stats.Ms(start, end) / 1000;
    }

    /// <summary><c>cascade run --until-idle</c> as a process, go marker present; returns seconds.</summary>
    private static async Task<double> CascadeProcessAsync(Shape shape, JsonObject detail)
    {
        using var dir = Workdir.Create(Name + "-cli");
        dir.WritePipeline(shape.Jobs);
        await File.WriteAllTextAsync(dir.MarkerPath(Go, Workdir.Day(0)), string.Empty);
        Shell.Result result;
        try
        {
            result = await Shell.RunAsync(Shell.DotnetHost, [Shell.CascadeDll, "run", "--until-idle", "--max-parallel", $"{Parallel}", "--quiet"], dir.Root, Bound);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {Shell.DotnetHost} {Shell.CascadeDll}: {e.Message}", e);
        }

        var built = Directory.EnumerateFiles(dir.MarkerFolder, "*.done").Count() - 1;
        detail["cascade_process_exit"] = result.ExitCode;
        if (result.ExitCode != 0 || built != shape.Executed)
        {
            throw new InvalidOperationException($"cascade run on {shape.Name} exited {result.ExitCode} with {built} of {shape.Executed} markers: {result.StdErr}{result.StdOut}");
        }

        return result.WallMs / 1000;
    }
}
