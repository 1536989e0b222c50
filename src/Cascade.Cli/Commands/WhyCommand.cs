using System.CommandLine;
using Cascade.Cli.Output;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers;
using Cascade.Engine.Reports;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

internal static class WhyCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var json = CommonOptions.Json("the run's details, as GET /api/runs/JOB/PARTITION answers them");
        var command = new Command("why", "Explain why a run is (not) running: each input done or missing, attempts, retries") { job, partition, json };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            await using var store = await ws.OpenStateForReadingAsync(TimeProvider.System, ct);
            var markers = ws.Markers(TimeProvider.System);
            using var owned = markers as IDisposable;
            if (parse.GetValue(json))
            {
                var details = await RunDetails.ReadAsync(ws.Pipeline, key, store, markers, ct);
                JsonOut.Write(w => RunDetailsJson.Write(w, details, ws.Pipeline));
                return 0;
            }

            foreach (var line in await ExplainAsync(ws.Pipeline, key, store, markers, ct))
            {
                Console.WriteLine(line);
            }

            return 0;
        }));
        return command;
    }

    public static async Task<List<string>> ExplainAsync(Pipeline pipeline, RunKey key, IRunStore store, IMarkerStore markers, CancellationToken ct)
    {
        var lines = new List<string>();
        var job = pipeline[key.Job];
        var run = await store.GetRunAsync(key, ct);
        lines.Add($"{key.Job} {key.Partition.Key}: {Headline(run, job)}");
        if (run is not null)
        {
            lines.AddRange(Details(run, key));
            if (run is { State: RunState.Running } && job.Run is RunSpec.Http
                && RemoteActivation.Of(run, job, await store.GetEventsAsync(key, ct)) is { } remote)
            {
                lines.Add("  remote: " + remote.Why);
            }
        }

        var now = TimeProvider.System.GetUtcNow();
        if (run is { State: RunState.Waiting, WaitDeadline: { } wait })
        {
            var left = wait - now;
            lines.Add(left > TimeSpan.Zero
                ? $"  wait deadline {States.At(wait)}: {Core.Model.Duration.Format(TimeSpan.FromSeconds(Math.Round(left.TotalSeconds)))} left for the missing inputs"
                : $"  wait deadline {States.At(wait)} has passed: it times out as soon as a scheduler runs");
        }

        if (pipeline.DeadlineOf(key) is { } sla)
        {
            var met = run is { IsDone: true } && run.FinishedAt <= sla;
            lines.Add(run is { IsDone: true }
                ? $"  SLA deadline {States.At(sla)}: {(met ? "met" : "missed (recovered later)")}"
                : $"  SLA deadline {States.At(sla)}: {(sla <= now ? "MISSED" : $"{Core.Model.Duration.Format(TimeSpan.FromMinutes(Math.Round((sla - now).TotalMinutes)))} left")}");
        }

        if (job.Schedule is { } schedule)
        {
            lines.Add($"  scheduled: \"{schedule.Cron.Expression}\" ({pipeline.Definition.TimeZone}), partition offset {schedule.PartitionOffset}, catch-up {(schedule.Catchup ? "on" : "off")}");
        }

        if (pipeline.IsBeforeStart(key))
        {
            lines.Add($"  this partition is before the job's start ({pipeline.EffectiveStart(key.Job):yyyy-MM-dd}): no run is created for it automatically");
        }

        if (job.IsRoot)
        {
            lines.Add(job.Run is RunSpec.External
                ? "  an external root job: Cascade never starts it; it is done when its marker is written (`cascade done`)"
                : $"  a root job: it starts {(job.Schedule is null ? string.Empty : "on its schedule, ")}with `cascade trigger {key.Job} {key.Partition.Key}`, or is done when its marker is written");
            return lines;
        }

        var states = (await InputReport.ExplainAsync(pipeline, key, store, markers, ct)).Select(s => (s.Input, Status: s.Why, Ok: s.Met)).ToList();
        var done = states.Count(s => s.Ok);
        lines.Add($"  inputs: {done} of {states.Count} done");
        foreach (var group in states.GroupBy(s => s.Input.AfterIndex))
        {
            var dep = group.First().Input.Dependency;
            var offset = dep.Offset == 0 ? string.Empty : $" (offset {dep.Offset})";
            if (group.Count() == 1)
            {
                var (input, status, ok) = group.First();
                lines.Add($"    {(ok ? "✔" : "✘")} {input.Key.Job} {input.Key.Partition.Key}{offset}: {status}");
                continue;
            }

            var missing = group.Where(s => !s.Ok).Select(s => s.Input.Key.Partition.Key).ToList();
            var first = group.First().Input.Key.Partition.Key;
            var last = group.Last().Input.Key.Partition.Key;
            lines.Add(missing.Count == 0
                ? $"    ✔ {dep.Job} {first}..{last}{offset}: all {group.Count()} done"
                : $"    ✘ {dep.Job} {first}..{last}{offset}: {group.Count() - missing.Count} of {group.Count()} done; missing {Summarize(missing)}");
        }

        if (run is null && done < states.Count)
        {
            lines.Add("  no run yet: it is created (waiting) when its first input is done, and starts when all are");
        }

        return lines;
    }

    private static string Headline(Run? run, JobDefinition job) => run switch
    {
        null => "no run yet",
        { State: RunState.Waiting } when job.Run is RunSpec.External => "waiting for its marker (external job)",
        { State: RunState.Waiting } => $"waiting for inputs since {States.At(run.CreatedAt)}",
        { State: RunState.Queued, NextRetryAt: { } at } => $"queued: attempt {run.Attempt} failed (exit {run.ExitCode}); retry {run.Failures} of {job.Retries} at {States.At(at)}",
        { State: RunState.Queued } => $"queued since {States.At(run.QueuedAt)} (waiting for a free slot: global or job max_parallel)",
        { State: RunState.Running } => $"running attempt {run.Attempt} since {States.At(run.StartedAt)}",
        { State: RunState.Succeeded } => $"succeeded {States.At(run.FinishedAt)}{(run.Attempt > 0 ? $" after {run.Attempt} attempt(s)" : " (marker written outside Cascade)")}",
        { State: RunState.Failed } => $"failed {States.At(run.FinishedAt)}: {run.Reason}",
        { State: RunState.TimedOut } => $"timed out {States.At(run.FinishedAt)}: {run.Reason}; downstream runs are upstream_failed until it is replayed",
        { State: RunState.UpstreamFailed } => $"upstream_failed: {run.Reason}; it will not start until the broken input is replayed",
        _ => States.Name(run.State),
    };

    private static IEnumerable<string> Details(Run run, RunKey key)
    {
        if (run.Cause == "trigger")
        {
            yield return "  activated by `cascade trigger` (inputs not checked)";
        }

        if (run.Params.Count > 0)
        {
            yield return "  params: " + string.Join(", ", run.Params.Select(kv => $"{kv.Key}={kv.Value}"));
        }

        if (run.Marker is { Meta.Count: > 0 } marker)
        {
            yield return "  marker metadata: " + string.Join(", ", marker.Meta.Select(kv => $"{kv.Key}={kv.Value.GetRawText()}"));
        }

        foreach (var warning in run.Warnings)
        {
            yield return "  warning: " + warning;
        }

        if (run.Attempt > 0)
        {
            yield return $"  attempts: {run.Attempt}{(run.ExitCode is { } code ? $", last exit code {code}" : string.Empty)} — output: cascade logs {key.Job} {key.Partition.Key} [--attempt N]";
        }
    }

    private static string Summarize(List<string> partitions) =>
        partitions.Count <= 6 ? string.Join(", ", partitions) : string.Join(", ", partitions.Take(5)) + $" and {partitions.Count - 5} more";
}
