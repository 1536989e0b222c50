using System.CommandLine;

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
            var prms = CommonOptions.ParseKeyValues(parse.GetValue(param)!, "--param");
            await using var store = await ws.OpenStateAsync(TimeProvider.System, ct);
            var id = await ws.Desk(TimeProvider.System).TriggerAsync(store, key, prms, ct);
            Console.WriteLine($"trigger requested for {key.Job} {key.Partition.Key} (request {id}; its inputs are not checked).");
            Console.WriteLine("A running `cascade run` starts it at once (within a second at the latest); otherwise the next `cascade run` does.");
            return 0;
        }));
        return command;
    }
}
