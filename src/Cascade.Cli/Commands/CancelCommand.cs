using System.CommandLine;
using Cascade.Core.Model;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

internal static class CancelCommand
{
    public static Command Create()
    {
        var job = new Argument<string?>("JOB") { Description = "The run's job (with PARTITION)", Arity = ArgumentArity.ZeroOrOne };
        var partition = new Argument<string?>("PARTITION") { Description = "The run's partition", Arity = ArgumentArity.ZeroOrOne };
        var backfill = new Option<string?>("--backfill", "-b") { Description = "Cancel a whole backfill by its id (printed by `cascade backfill`)" };
        var command = new Command("cancel", "Cancel a backfill or one run: queued work is dropped and running commands are killed (the runs end failed, reason \"cancelled\")")
        {
            job, partition, backfill,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var id = parse.GetValue(backfill);
            RunKey? key = null;
            if (parse.GetValue(job) is { } j)
            {
                key = ws.Key(j, parse.GetValue(partition) ?? throw new CliException("give JOB and PARTITION, or --backfill ID"));
            }

            if ((key is null) == (id is null))
            {
                throw new CliException("give either JOB PARTITION or --backfill ID");
            }

            await using var store = await ws.OpenStateAsync(TimeProvider.System, ct);
            if (id is not null && (await store.QueryRunsAsync(new RunQuery { Backfill = id, Limit = 1 }, ct)).Count == 0)
            {
                throw new CliException($"no backfill '{id}' has runs in {Workspace.Relative(ws.StatePath)}");
            }

            var request = await store.EnqueueRequestAsync(Request.ForCancel(id, key, TimeProvider.System.GetUtcNow()), ct);
            Console.WriteLine($"cancel requested (request {request}) for {(key is { } k ? k.ToString() : "backfill " + id)}: a running `cascade run` applies it within a second.");
            return 0;
        }));
        return command;
    }
}
