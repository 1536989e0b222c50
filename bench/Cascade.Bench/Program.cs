using System.Diagnostics;
using Cascade.Bench;
using Cascade.Bench.Scenarios;
using Cascade.Bench.Support;

// The scale scenario's cold start runs in a fresh child process of this same program.
if (args is ["--child", ScaleScenario.Name, var childDir])
{
    return await ScaleScenario.ChildAsync(childDir);
}

// The crash campaign is a check, not a timing: its own options, report and exit code.
if (args is [Cascade.Bench.Crash.CrashCampaign.Name, .. var crashArgs])
{
    return await Cascade.Bench.Crash.CrashCampaign.MainAsync(crashArgs);
}

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{BenchOptions.Usage}");
    return 2;
}

Workdir.Keep = options.Keep;
var clock = Stopwatch.GetTimestamp();
var machine = await Machine.ReadAsync();
foreach (var line in machine.Lines())
{
    Console.WriteLine(line);
}

Console.WriteLine($"runs:    {options.Runs} per scenario{(options.Quick ? " (--quick: small sizes, figures not comparable)" : string.Empty)}; medians in the table");
Console.WriteLine();

var reports = new List<ScenarioReport>();
var failed = new List<string>();
var scenarios = new (string Name, Func<Task<ScenarioReport>> Run)[]
{
    (ReactionScenario.Name, () => ReactionScenario.RunAsync(options)),
    (ThroughputScenario.Name, () => ThroughputScenario.RunAsync(options)),
    (DagScenario.Name, () => DagScenario.RunAsync(options, machine)),
    (ScaleScenario.Name, () => ScaleScenario.RunAsync(options)),
    (IdleScenario.Name, () => IdleScenario.RunAsync(options)),
    (RequestScenario.Name, () => RequestScenario.RunAsync(options)),
    (SseScenario.Name, () => SseScenario.RunAsync(options)),
};
foreach (var (name, run) in scenarios.Where(s => options.Selected(s.Name)))
{
    var started = Stopwatch.GetTimestamp();
    Console.WriteLine($"[{name}] running…");
    try
    {
        var report = await run();
        reports.Add(report);
        Console.WriteLine($"[{name}] done in {Stats.MsSince(started) / 1000:0.0} s");
    }
#pragma warning disable CA1031 // one broken scenario is reported (and fails the exit code); the others still run
    catch (Exception e)
#pragma warning restore CA1031
    {
        failed.Add(name);
        var report = new ScenarioReport(name, name, "failed");
        report.Note($"FAILED: {e.GetType().Name}: {e.Message}");
        reports.Add(report);
        await Console.Error.WriteLineAsync($"[{name}] FAILED after {Stats.MsSince(started) / 1000:0.0} s: {e}");
    }
}

machine.LoadAverageAtEnd = Machine.LoadAverage();
var total = Stats.MsSince(clock) / 1000;
Console.WriteLine();
Console.WriteLine(Report.Table(reports));
var below = reports.SelectMany(r => r.Metrics.Where(m => m.Met == false).Select(m => $"{r.Name}: {m.Name}")).ToList();
Console.WriteLine(below.Count == 0 ? "every target met" : $"{below.Count} target(s) not met: {string.Join("; ", below)}");
Console.WriteLine($"load average {machine.LoadAverageAtStart} at start, {machine.LoadAverageAtEnd} at end; total {total:0} s");
await Report.WriteJsonAsync(options.Out, Report.Json(machine, options, reports, total));
Console.WriteLine($"JSON: {Path.GetFullPath(options.Out)}");
Workdir.DeleteAll();
if (failed.Count > 0)
{
    await Console.Error.WriteLineAsync($"failed scenario(s): {string.Join(", ", failed)}");
    return 1;
}

return 0;
