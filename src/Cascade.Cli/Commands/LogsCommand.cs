using System.CommandLine;
using System.Globalization;
using Cascade.Cli.Output;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Reports;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

/// <summary>
/// <c>cascade logs JOB PARTITION [--attempt N] [--generation G] [--follow]</c>: one attempt's output.
/// The executor writes every line through to the log as it comes, so a running attempt's output is
/// there already; <c>--follow</c> tails it until the attempt ends.
/// </summary>
internal static class LogsCommand
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(200);

    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var attempt = new Option<int?>("--attempt", "-a") { Description = "Which attempt (default: the latest of the generation)" };
        var generation = new Option<int?>("--generation") { Description = "Which generation (default: the latest; `cascade history` lists them)" };
        var follow = new Option<bool>("--follow") { Description = "Keep printing output as it comes until the attempt ends (without a running scheduler: stop at the end of the file)" };
        var json = CommonOptions.Json("the attempt's metadata instead of its output, as an element of `attempts` of GET /api/runs/JOB/PARTITION");
        var command = new Command("logs", "Print a run's output (stdout and stderr of one attempt), also while it runs") { job, partition, attempt, generation, follow, json };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            if (parse.GetValue(json) && parse.GetValue(follow))
            {
                throw new CliException("--json prints the attempt's metadata, --follow its output: give one of them");
            }

            await using var store = await ws.OpenStateForReadingAsync(TimeProvider.System, ct);
            var generations = await store.QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key, AllGenerations = true }, ct);
            if (generations.Count == 0)
            {
                throw new CliException($"no run of {key.Job} {key.Partition.Key} yet (see `cascade why {key.Job} {key.Partition.Key}`)");
            }

            var g = parse.GetValue(generation) ?? generations.Max(r => r.Generation);
            var run = generations.FirstOrDefault(r => r.Generation == g)
                ?? throw new CliException($"{key.Job} {key.Partition.Key} has generation(s) {string.Join(", ", generations.Select(r => r.Generation))}, not {g}");
            if (run.Attempt == 0)
            {
                throw new CliException(run.State == RunState.Succeeded
                    ? $"{key.Job} {key.Partition.Key} generation {g} was done by its marker, not by a command: no output"
                    : $"{key.Job} {key.Partition.Key} generation {g} has not started yet ({Output.States.Label(run)}): no output");
            }

            var n = parse.GetValue(attempt) ?? run.Attempt;
            if (n < 1 || n > run.Attempt)
            {
                throw new CliException($"{key.Job} {key.Partition.Key} generation {g} has attempts 1..{run.Attempt}, not {n}");
            }

            var path = LogFiles.Find(ws.LogDirectory, key, g, n);
            var record = (await store.GetAttemptsAsync(key, ct)).LastOrDefault(a => a.Generation == g && a.Attempt == n);
            var live = IsLive(run, n, record);
            if (!File.Exists(path) && !live)
            {
                throw new CliException($"attempt {n} of {key.Job} {key.Partition.Key} (generation {g}) never started, so it has no output: {await WhyNotStartedAsync(store, key, g, n, run, ct)}");
            }

            if (parse.GetValue(json))
            {
                JsonOut.Write(w => RunDetailsJson.WriteAttempt(w, key, g, n, record));
                return 0;
            }

            await Console.Error.WriteLineAsync($"== {key.Job} {key.Partition.Key} generation {g} attempt {n} of {run.Attempt} ({(live ? "running" : Ending(record))}) — {Workspace.Relative(path)}");
            var followed = parse.GetValue(follow) && live && SchedulerIsRunning(ws.StatePath);
            await using var stdout = Console.OpenStandardOutput();
            if (!followed)
            {
                if (!File.Exists(path))
                {
                    await Console.Error.WriteLineAsync("(no output yet: the attempt is starting)");
                    return 0;
                }

                await using var file = Open(path);
                await file.CopyToAsync(stdout, ct);
                return 0;
            }

            var ended = await FollowAsync(store, key, g, n, path, stdout, ct);
            await Console.Error.WriteLineAsync($"== attempt {n} ended ({Ending(ended)})");
            return 0;
        }));
        return command;
    }

    /// <summary>Prints the log as it grows until the attempt's record says it ended, then the rest of the file.</summary>
    private static async Task<AttemptRecord?> FollowAsync(IRunStore store, RunKey key, int generation, int attempt, string path, Stream stdout, CancellationToken ct)
    {
        long offset = 0;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            // Read the state first, then the file: output written before the end was recorded is all in the file.
            var run = await store.GetRunAsync(key, ct);
            var record = (await store.GetAttemptsAsync(key, ct)).LastOrDefault(a => a.Generation == generation && a.Attempt == attempt);
            if (File.Exists(path))
            {
                await using var file = Open(path);
                file.Seek(offset, SeekOrigin.Begin);
                int read;
                while ((read = await file.ReadAsync(buffer, ct)) > 0)
                {
                    await stdout.WriteAsync(buffer.AsMemory(0, read), ct);
                    offset += read;
                }

                await stdout.FlushAsync(ct);
            }

            if (run is null || run.Generation != generation || !IsLive(run, attempt, record))
            {
                return record;
            }

            await Task.Delay(PollEvery, TimeProvider.System, ct);
        }
    }

    /// <summary>Whether a scheduler holds the state (asked without taking its lock): without one, nothing would end the attempt.</summary>
    private static bool SchedulerIsRunning(string statePath)
    {
        try
        {
            return SchedulerLock.IsHeld(statePath);
        }
        catch (UnauthorizedAccessException)
        {
            return true; // cannot tell (a read-only state folder): follow, Ctrl-C ends it
        }
    }

    /// <summary>Whether attempt <paramref name="n"/> of <paramref name="run"/>'s generation is under way (its output may still grow).</summary>
    private static bool IsLive(Run run, int n, AttemptRecord? record) =>
        run.State == RunState.Running && run.Attempt == n && record is not { FinishedAt: not null };

    private static async Task<string> WhyNotStartedAsync(IRunStore store, RunKey key, int generation, int attempt, Run run, CancellationToken ct)
    {
        var events = await store.GetEventsAsync(key, ct);
        var reason = events.LastOrDefault(e => e.Generation == generation && e.Attempt == attempt && e.Event is "failed" or "retry" or "cancelled")?.Detail;
        return reason ?? run.Reason ?? "no reason was recorded";
    }

    private static string Ending(AttemptRecord? record) => record switch
    {
        null => "never started",
        { FinishedAt: null } => "running",
        { ExitCode: { } code, Outcome: { } outcome } => string.Create(CultureInfo.InvariantCulture, $"{outcome}, exit {code}"),
        { Outcome: { } outcome } => outcome,
        _ => "ended",
    };

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
}
