using System.CommandLine;
using System.Text.Json;
using Cascade.Cli.Output;
using Cascade.Core.Scheduling;
using Cascade.Engine.Reports;
using Cascade.Engine.State;
using Spectre.Console;

namespace Cascade.Cli.Commands;

internal static class StatusCommand
{
    public static Command Create()
    {
        var partition = new Option<string?>("--partition", "-p") { Description = "Only this partition" };
        var job = new Option<string?>("--job") { Description = "Only this job" };
        var state = new Option<string?>("--state", "-s") { Description = "Only runs in this state (waiting, queued, running, succeeded, failed, timed_out, upstream_failed)" };
        var json = CommonOptions.Json();
        var command = new Command("status", "Runs and their states (the latest generation of each job and partition)") { partition, job, state, json };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var query = new RunQuery();
            if (parse.GetValue(job) is { } j)
            {
                query = query with { Job = ws.Job(j).Name };
            }

            if (parse.GetValue(partition) is { } p)
            {
                query = query with { Partition = CommonOptions.ParsePartition(p).Key };
            }

            if (parse.GetValue(state) is { } s)
            {
                query = query with { State = States.Parse(s, "--state") };
            }

            await using var store = await ws.OpenStateForReadingAsync(TimeProvider.System, ct);
            var runs = await store.QueryRunsAsync(query, ct);
            if (parse.GetValue(json))
            {
                PrintJson(runs, ws.Pipeline);
            }
            else if (runs.Count == 0)
            {
                var any = query == new RunQuery() ? runs : await store.QueryRunsAsync(new RunQuery { Limit = 1 }, ct);
                Console.WriteLine(any.Count == 0
                    ? "No runs yet. Runs appear once a marker is observed or a job is triggered by `cascade run`."
                    : $"No runs match {Filter(query)} (there are other runs: `cascade status` lists them all).");
            }
            else
            {
                PrintTable(runs, ws.Pipeline);
            }

            return 0;
        }));
        return command;
    }

    private static void PrintJson(IReadOnlyList<Run> runs, Core.Pipelines.Pipeline pipeline)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var run in runs)
            {
                RunJson.Write(w, run, pipeline.DeadlineOf(run.Key));
            }

            w.WriteEndArray();
        }

        stdout.WriteByte((byte)'\n');
    }

    private static string Filter(RunQuery q) => string.Join(" ", new[]
    {
        q.Job is { } j ? $"--job {j}" : null,
        q.Partition is { } p ? $"--partition {p}" : null,
        q.State is { } s ? $"--state {States.Name(s)}" : null,
    }.OfType<string>());

    private static void PrintTable(IReadOnlyList<Run> runs, Core.Pipelines.Pipeline pipeline)
    {
        var now = TimeProvider.System.GetUtcNow();
        string[] headers = ["JOB", "PARTITION", "STATE", "ATTEMPT", "ACTIVATED", "FINISHED", "NOTE"];
        var rows = runs.Select(run => (IReadOnlyList<string>)
        [
            run.Key.Job,
            run.Key.Partition.Key,
            States.Label(run),
            run.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            States.At(run.ActivatedAt),
            States.At(run.FinishedAt),
            Note(run, pipeline.DeadlineOf(run.Key), now),
        ]).ToList();
        if (Console.IsOutputRedirected)
        {
            PlainTable.Write(Console.Out, headers, rows);
        }
        else
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns(headers);
            for (var r = 0; r < rows.Count; r++)
            {
                table.AddRow(rows[r].Select((cell, i) => i == 2 ? States.Markup(runs[r]) : Markup.Escape(cell)).ToArray());
            }

            AnsiConsole.Write(table);
        }

        // Every run counts, those done by markers (external jobs) too, as `cascade run`'s summary counts them.
        Console.WriteLine($"{runs.Count} run(s): {States.Counts(runs)}");
    }

    private static string Note(Run run, DateTimeOffset? deadline, DateTimeOffset now)
    {
        var parts = new List<string>();
        if (run.NextRetryAt is { } retry)
        {
            parts.Add($"retry at {retry.ToUniversalTime():HH:mm:ss}Z after exit {run.ExitCode}");
        }
        else if (run.Reason is { } reason && !States.IsCancelled(run))
        {
            parts.Add(reason);
        }

        if (run is { State: RunState.Waiting, WaitDeadline: { } wait })
        {
            parts.Add($"times out at {wait.ToUniversalTime():yyyy-MM-dd HH:mm}Z");
        }

        if (deadline is { } sla && !run.IsDone)
        {
            parts.Add(sla <= now ? $"missed deadline {sla.ToUniversalTime():yyyy-MM-dd HH:mm}Z" : $"deadline {sla.ToUniversalTime():yyyy-MM-dd HH:mm}Z");
        }

        if (run.Cause == "trigger")
        {
            parts.Add("triggered");
        }

        parts.AddRange(run.Warnings.Select(w => "warning: " + w));
        return string.Join("; ", parts);
    }
}
