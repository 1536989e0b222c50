using System.CommandLine;
using Cascade.Cli.Output;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Reports;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

/// <summary>
/// <c>cascade cancel</c>: a backfill, one run, or a range of a job's runs (stale waiting runs are
/// cleared this way). It goes through the request path like every command that changes state; the
/// plan printed (and, with <c>--dry-run</c>, only printed) is read from the state database.
/// </summary>
internal static class CancelCommand
{
    private const int Shown = 20;

    public static Command Create()
    {
        var job = new Argument<string?>("JOB") { Description = "The runs' job (with PARTITION)", Arity = ArgumentArity.ZeroOrOne };
        var partition = new Argument<string?>("PARTITION[..PARTITION]") { Description = "A partition or an inclusive range, e.g. 20190312 or 2019-03-13..2019-12-31", Arity = ArgumentArity.ZeroOrOne };
        var backfill = new Option<string?>("--backfill", "-b") { Description = "Cancel a whole backfill by its id (printed by `cascade backfill`)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print what would be cancelled and change nothing" };
        var json = CommonOptions.Json("the plan (and the request), as POST /api/cancel answers");
        var command = new Command("cancel", "Cancel a backfill, a run or a range of runs: waiting and queued work is dropped and running commands are killed (the runs end failed, reason \"cancelled\")")
        {
            job, partition, backfill, dryRun, json,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var id = parse.GetValue(backfill);
            RunKey? key = null;
            var to = default(Partition);
            if (parse.GetValue(job) is { } j)
            {
                var name = ws.Job(j).Name;
                var (from, last) = ws.Range(name, parse.GetValue(partition) ?? throw new CliException("give JOB and PARTITION, or --backfill ID"));
                (key, to) = (new RunKey(name, from), last);
            }

            if ((key is null) == (id is null))
            {
                throw new CliException("give either JOB PARTITION[..PARTITION] or --backfill ID");
            }

            await using var store = await ws.OpenStateAsync(TimeProvider.System, ct);
            var desk = ws.Desk(TimeProvider.System);
            var plan = await desk.PlanCancelAsync(store, id, key, to, ct);
            var asJson = parse.GetValue(json);
            if (parse.GetValue(dryRun))
            {
                if (asJson)
                {
                    JsonOut.Write(w =>
                    {
                        w.WriteStartObject();
                        CancelPlanJson.WriteMembers(w, plan.What, plan.Targets, dryRun: true);
                        w.WriteEndObject();
                    });
                    return 0;
                }

                PrintPlan(plan.What, plan.Targets);
                Console.WriteLine("dry run: nothing was changed.");
                return 0;
            }

            var request = await desk.CancelAsync(store, plan, ct);
            if (asJson)
            {
                var running = SchedulerLock.IsHeld(ws.StatePath);
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    CancelPlanJson.WriteRequestMembers(w, request, running);
                    CancelPlanJson.WriteMembers(w, plan.What, plan.Targets, dryRun: false);
                    w.WriteEndObject();
                });
                return 0;
            }

            PrintPlan(plan.What, plan.Targets);
            var what = plan.What;
            Console.WriteLine($"cancel requested (request {request}) for {what}: a running `cascade run` applies it at once (within a second at the latest), otherwise the next `cascade run` does.");
            return 0;
        }));
        return command;
    }

    private static void PrintPlan(string what, IReadOnlyList<Run> targets)
    {
        var counts = string.Join(", ", targets.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => $"{g.Count():N0} {g.Key.Name()}"));
        Console.WriteLine($"cancel plan: {what} — {targets.Count:N0} run(s) to cancel{(targets.Count == 0 ? " (nothing waiting, queued or running)" : $": {counts}")}");
        foreach (var run in targets.Take(Shown))
        {
            Console.WriteLine($"  {run.Key}  {run.State.Name()}");
        }

        if (targets.Count > Shown)
        {
            Console.WriteLine($"  … and {targets.Count - Shown:N0} more");
        }
    }
}
