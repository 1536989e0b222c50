using System.CommandLine;
using System.Text.Json;
using Cascade.Core.Markers;

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
        var command = new Command("done", "Write a done marker: the job is done for the partition; downstream jobs react") { job, partition, meta, param, force };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var key = ws.Key(parse.GetValue(job)!, parse.GetValue(partition)!);
            var metaValues = CommonOptions.ParseKeyValues(parse.GetValue(meta)!, "--meta");
            if (metaValues.ContainsKey("params"))
            {
                throw new CliException("--meta params=… is not allowed: 'params' holds the params of the marker; use --param KEY=VALUE");
            }

            var body = new MarkerBody
            {
                Params = CommonOptions.ParseKeyValues(parse.GetValue(param)!, "--param"),
                Meta = new SortedDictionary<string, JsonElement>(
                    metaValues.ToDictionary(kv => kv.Key, kv => MetaValue(kv.Value)),
                    StringComparer.Ordinal),
            };
            var store = ws.Markers(TimeProvider.System);
            var path = store.Locate(key);
            var existed = File.Exists(path);
            if (existed && !parse.GetValue(force))
            {
                throw new CliException($"{Workspace.Relative(path)} exists already: {key.Job} {key.Partition.Key} is done. Its body is kept; a new one would not re-run what ran on it (use `cascade replay {key.Job} {key.Partition.Key}` for that, or --force to replace the marker anyway)");
            }

            await store.WriteAsync(key, body, ct);
            Console.WriteLine(existed ? $"marker replaced: {Workspace.Relative(path)} (runs that already used it are not re-run)" : $"marker written: {Workspace.Relative(path)}");
            return 0;
        }));
        return command;
    }

    private static JsonElement MetaValue(string text)
    {
        if (text is "true" or "false" || double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            try
            {
                return JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                // not a JSON literal after all (e.g. "1e"): keep it a string
            }
        }

        return JsonSerializer.SerializeToElement(text, CliJson.Default.String);
    }
}
