using System.CommandLine;
using System.Text.Json;
using Cascade.Cli.Output;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Reports;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

internal static class ReplayCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var range = new Argument<string>("PARTITION[..PARTITION]") { Description = "A partition or an inclusive range, e.g. 20190312 or 2019-03-10..2019-03-12" };
        var downstream = new Option<bool>("--downstream", "-d") { Description = "Also re-run every run downstream of it (offsets included)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print the plan and change nothing" };
        var force = new Option<bool>("--force") { Description = "Replay runs that are running now (their commands are killed)" };
        var json = CommonOptions.Json();
        var command = new Command("replay", "Re-run a job for a partition or a range, and with --downstream everything below it; upstream runs are never re-run")
        {
            job, range, downstream, dryRun, force, json,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var name = ws.Job(parse.GetValue(job)!).Name;
            var (from, to) = ws.Range(name, parse.GetValue(range)!);
            var dry = parse.GetValue(dryRun);
            await using var store = dry && !StateStores.MayExist(ws.State) ? null : await ws.OpenStateAsync(TimeProvider.System, ct);
            var desk = ws.Desk(TimeProvider.System);
            var plan = await desk.PlanReplayAsync(store, name, from, to, parse.GetValue(downstream), ct);
            if (parse.GetValue(json))
            {
                PrintJson(plan, ws.Pipeline, parse.GetValue(dryRun));
            }
            else
            {
                PrintPlan(plan, ws.Pipeline, name, from, to, parse.GetValue(downstream));
            }

            if (parse.GetValue(dryRun))
            {
                if (!parse.GetValue(json))
                {
                    Console.WriteLine("dry run: nothing was changed.");
                }

                return 0;
            }

            var id = await desk.ReplayAsync(store!, plan, name, from, to, parse.GetValue(downstream), parse.GetValue(force), ct);
            if (!parse.GetValue(json))
            {
                Console.WriteLine($"replay requested (request {id}): a running `cascade run` applies it at once (within a second at the latest), otherwise the next `cascade run` does.");
            }

            return 0;
        }));
        return command;
    }

    private static void PrintPlan(ReplayPlan plan, Pipeline pipeline, string job, Partition from, Partition to, bool downstream)
    {
        var what = from == to ? $"{job} {from.Key}" : $"{job} {from.Key}..{to.Key}";
        var running = plan.Running.Count();
        Console.WriteLine($"replay plan: {what}{(downstream ? " and everything downstream" : string.Empty)} — {plan.Runs.Count} run(s), {running} running now");
        var width = plan.Runs.Max(r => (r.Depth * 3) + r.Key.ToString().Length);
        var inPlan = plan.Runs.Select(r => r.Key).ToHashSet();
        foreach (var run in plan.Runs)
        {
            var label = (run.Depth == 0 ? string.Empty : new string(' ', (run.Depth - 1) * 3) + "└─ ") + run.Key;
            var state = run.Current is { } s ? States.Name(s) : "no run yet";
            var generation = run.Generation == 0 ? $"new g{run.NextGeneration}" : $"g{run.Generation} -> g{run.NextGeneration}";
            Console.WriteLine($"  {label.PadRight(width)}  {state,-15}  {generation,-9}  {Next(run, pipeline, inPlan)}");
        }

        Console.WriteLine("Old markers are moved aside (to .superseded/ in the marker store), never deleted; upstream runs are not re-run.");
    }

    /// <summary>What the planned run does next, naming the inputs it waits for.</summary>
    private static string Next(PlannedRun run, Pipeline pipeline, HashSet<RunKey> inPlan)
    {
        if (run.Depth > 0)
        {
            return $"waits for {run.Because} to finish again";
        }

        if (pipeline[run.Key.Job].Run is RunSpec.External)
        {
            return "waits for its marker to be written again (external job)";
        }

        if (run.Missing.Count == 0)
        {
            return "starts at once (its inputs are done)";
        }

        var again = run.Missing.Where(inPlan.Contains).ToList();
        var notDone = run.Missing.Where(k => !inPlan.Contains(k)).ToList();
        var parts = new List<string>();
        if (notDone.Count > 0)
        {
            parts.Add($"{Summarize(notDone)} (not done)");
        }

        if (again.Count > 0)
        {
            parts.Add($"{Summarize(again)} to finish again");
        }

        return $"waits for {string.Join(" and ", parts)}";
    }

    private static string Summarize(List<RunKey> keys) =>
        keys.Count <= 3 ? string.Join(", ", keys) : $"{string.Join(", ", keys.Take(2))} and {keys.Count - 2} more";

    private static void PrintJson(ReplayPlan plan, Pipeline pipeline, bool dryRun)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            ReplayPlanJson.Write(w, plan, pipeline, dryRun);
        }

        stdout.WriteByte((byte)'\n');
    }
}
