using System.CommandLine;
using Cascade.Core.Pipelines;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

internal static class TriggerCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var param = CommonOptions.KeyValues("--param", "A param for this run, winning over every other source (repeatable)");
        var command = new Command("trigger", "Activate a job for a partition now. Its inputs are NOT checked.") { job, partition, param };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            if (ws.Pipeline[key.Job].Run is RunSpec.External)
            {
                throw new CliException($"'{key.Job}' is an external job: Cascade never starts it. Mark it done with `cascade done {key.Job} {key.Partition.Key}`.");
            }

            var prms = CommonOptions.ParseKeyValues(parse.GetValue(param)!, "--param");
            await using var store = await ws.OpenStateAsync(TimeProvider.System, ct);
            switch ((await store.GetRunAsync(key, ct))?.State)
            {
                case Core.Scheduling.RunState.Succeeded:
                    throw new CliException($"{key.Job} {key.Partition.Key} already succeeded; to run it again, replay it");
                case Core.Scheduling.RunState.Running:
                    throw new CliException($"{key.Job} {key.Partition.Key} is running now (see `cascade why {key.Job} {key.Partition.Key}`)");
            }

            var id = await store.EnqueueRequestAsync(new Request(Request.Trigger, key, prms, TimeProvider.System.GetUtcNow()), ct);
            SchedulerLock.Ring(ws.StatePath);
            Console.WriteLine($"trigger requested for {key.Job} {key.Partition.Key} (request {id}; its inputs are not checked).");
            Console.WriteLine("A running `cascade run` starts it at once (within a second at the latest); otherwise the next `cascade run` does.");
            return 0;
        }));
        return command;
    }
}
