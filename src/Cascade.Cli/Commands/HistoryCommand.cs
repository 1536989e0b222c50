using System.CommandLine;
using System.Globalization;
using Cascade.Cli.Output;
using Cascade.Engine.Reports;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

internal static class HistoryCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var events = new Option<bool>("--events") { Description = "Also print every recorded change" };
        var json = CommonOptions.Json("the run's details with every generation, attempt and recorded change, as GET /api/runs/JOB/PARTITION answers them");
        var command = new Command("history", "Every generation and attempt of a run: times, exit codes, and who asked (schedule, marker, trigger, replay, backfill)") { job, partition, events, json };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            await using var store = await ws.OpenStateForReadingAsync(TimeProvider.System, ct);
            var generations = await store.QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key, AllGenerations = true }, ct);
            if (generations.Count == 0)
            {
                throw new CliException($"no run of {key} yet (see `cascade why {key.Job} {key.Partition.Key}`)");
            }

            if (parse.GetValue(json))
            {
                var details = await RunDetails.ReadAsync(ws.Pipeline, key, store, ws.Markers(TimeProvider.System), ct);
                JsonOut.Write(w => RunDetailsJson.Write(w, details, ws.Pipeline));
                return 0;
            }

            var attempts = await store.GetAttemptsAsync(key, ct);
            Console.WriteLine($"{key.Job} {key.Partition.Key}: {generations.Count} generation(s)");
            var rows = new List<IReadOnlyList<string>>();
            foreach (var run in generations)
            {
                var who = run.Cause ?? (run.Attempt == 0 ? "marker" : "inputs");
                rows.Add([$"g{run.Generation}", "-", States.Label(run), who, States.At(run.CreatedAt), States.At(run.FinishedAt), run.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-", run.Reason ?? string.Empty]);
                for (var n = 1; n <= run.Attempt; n++)
                {
                    var number = n.ToString(CultureInfo.InvariantCulture);
                    rows.Add(attempts.LastOrDefault(a => a.Generation == run.Generation && a.Attempt == n) is { } a
                        ? [string.Empty, number, a.Outcome ?? "running", string.Empty, States.At(a.StartedAt), States.At(a.FinishedAt), a.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-", LogNote(ws, key, a)]
                        : [string.Empty, number, "never started", string.Empty, "-", "-", "-", n == run.Attempt ? $"no output: {run.Reason}" : "no output"]);
                }
            }

            PlainTable.Write(Console.Out, ["GEN", "ATTEMPT", "STATE", "WHO", "STARTED", "FINISHED", "EXIT", "NOTE"], rows);
            if (parse.GetValue(events))
            {
                Console.WriteLine();
                foreach (var e in await store.GetEventsAsync(key, ct))
                {
                    Console.WriteLine($"  {States.At(e.At)}  g{e.Generation} a{e.Attempt}  {e.Event,-16} {e.Detail}");
                }
            }

            return 0;
        }));
        return command;
    }

    /// <summary>How to see an attempt's output, or that it has none because its command never started.</summary>
    private static string LogNote(Workspace ws, Core.Model.RunKey key, AttemptRecord a) =>
        a.FinishedAt is not null && !File.Exists(Engine.Runtime.LogFiles.Find(ws.LogDirectory, key, a.Generation, a.Attempt))
            ? "never started: no output (`cascade logs` says why)"
            : $"cascade logs {key.Job} {key.Partition.Key} --generation {a.Generation} --attempt {a.Attempt}";
}
