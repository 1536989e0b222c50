using System.CommandLine;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Engine.Requests;

namespace Cascade.Cli.Commands;

internal static class DoneCommand
{
    public static Command Create()
    {
        var job = CommonOptions.JobArgument();
        var partition = CommonOptions.PartitionArgument();
        var meta = CommonOptions.KeyValues("--meta", "Metadata shown in status (repeatable); numbers and true/false stay JSON values");
        var param = CommonOptions.KeyValues("--param", "A param passed to downstream runs of this partition (repeatable)");
        var force = new Option<bool>("--force") { Description = "Replace a marker that exists already (what ran on it is not re-run: use `cascade replay` for that)" };
        partition.Description = "A partition (20190312, 2019031205), or an inclusive range of the job's grain, FROM..TO (20190301..20190331, 2019031200..2019031223): one marker each";
        var command = new Command("done", "Write a done marker: the job is done for the partition (or each of a range); downstream jobs react") { job, partition, meta, param, force };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var name = ws.Job(parse.GetValue(job)!).Name;
            var text = parse.GetValue(partition)!;
            var body = new MarkerBody
            {
                Params = CommonOptions.ParseKeyValues(parse.GetValue(param)!, "--param"),
                Meta = new SortedDictionary<string, JsonElement>(
                    CommonOptions.ParseKeyValues(parse.GetValue(meta)!, "--meta").ToDictionary(kv => kv.Key, kv => RequestDesk.MetaValue(kv.Value)),
                    StringComparer.Ordinal),
            };
            var store = ws.Markers(TimeProvider.System);
            using var owned = store as IDisposable;
            var (keys, replaced) = await ws.Desk(TimeProvider.System).WriteMarkersAsync(store, name, text, body, parse.GetValue(force), ct);
            if (keys.Count == 1)
            {
                var path = Workspace.Shown(store.Locate(keys[0]));
                Console.WriteLine(replaced > 0 ? $"marker replaced: {path} (runs that already used it are not re-run)" : $"marker written: {path}");
            }
            else
            {
                Console.WriteLine($"wrote {keys.Count} marker(s) for {name} {keys[0].Partition.Key}..{keys[^1].Partition.Key}{(replaced > 0 ? $" ({replaced} replaced; runs that already used them are not re-run)" : string.Empty)}");
            }

            return 0;
        }));
        return command;
    }
}
