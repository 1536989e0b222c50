using System.CommandLine;
using Cascade.Engine.Runtime;

namespace Cascade.Cli.Commands;

internal static class LogsCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var attempt = new Option<int?>("--attempt", "-a") { Description = "Which attempt (default: the latest)" };
        var command = new Command("logs", "Print a run's output (stdout and stderr of one attempt)") { job, partition, attempt };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            await using var store = await ws.OpenStateForReadingAsync(TimeProvider.System, ct);
            var run = await store.GetRunAsync(key, ct)
                ?? throw new CliException($"no run of {key.Job} {key.Partition.Key} yet (see `cascade why {key.Job} {key.Partition.Key}`)");
            if (run.Attempt == 0)
            {
                throw new CliException($"{key.Job} {key.Partition.Key} has not started yet ({Output.States.Name(run.State)}): no output");
            }

            var n = parse.GetValue(attempt) ?? run.Attempt;
            if (n < 1 || n > run.Attempt)
            {
                throw new CliException($"{key.Job} {key.Partition.Key} has attempts 1..{run.Attempt}, not {n}");
            }

            var path = LogFiles.PathOf(ws.LogDirectory, key, run.Generation, n);
            if (!File.Exists(path))
            {
                throw new CliException($"no output kept for attempt {n} ({Workspace.Relative(path)} is missing)");
            }

            var attempts = await store.GetAttemptsAsync(key, ct);
            var record = attempts.LastOrDefault(a => a.Generation == run.Generation && a.Attempt == n);
            var exit = record?.ExitCode is { } code ? $"exit {code}" : record?.Outcome ?? "running";
            await Console.Error.WriteLineAsync($"== {key.Job} {key.Partition.Key} generation {run.Generation} attempt {n} of {run.Attempt} ({exit}) — {Workspace.Relative(path)}");
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            await using var stdout = Console.OpenStandardOutput();
            await file.CopyToAsync(stdout, ct);
            return 0;
        }));
        return command;
    }
}
