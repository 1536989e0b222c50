using System.CommandLine;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;

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
            var keys = Keys(ws, name, text);
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
            using var owned = store as IDisposable;

            // Every existing marker is found before anything is written: a refused range changes nothing.
            var existing = await ExistingAsync(store, keys, ct);
            if (existing.Count > 0 && !parse.GetValue(force))
            {
                throw new CliException(keys.Count == 1
                    ? $"{Workspace.Shown(store.Locate(existing[0]))} exists already: {name} {existing[0].Partition.Key} is done. Its body is kept; a new one would not re-run what ran on it (use `cascade replay {name} {existing[0].Partition.Key}` for that, or --force to replace the marker anyway)"
                    : $"{existing.Count} of the {keys.Count} markers of {name} {text} exist already ({string.Join(", ", existing.Take(5).Select(k => k.Partition.Key))}{(existing.Count > 5 ? ", …" : string.Empty)}); nothing was written. Their bodies are kept; new ones would not re-run what ran on them (use `cascade replay {name} {text}` for that, or --force to replace them anyway)");
            }

            foreach (var key in keys)
            {
                await store.WriteAsync(key, body, ct); // each one atomically (a temporary file renamed into place)
            }

            if (keys.Count == 1)
            {
                var path = Workspace.Shown(store.Locate(keys[0]));
                Console.WriteLine(existing.Count > 0 ? $"marker replaced: {path} (runs that already used it are not re-run)" : $"marker written: {path}");
            }
            else
            {
                Console.WriteLine($"wrote {keys.Count} marker(s) for {name} {keys[0].Partition.Key}..{keys[^1].Partition.Key}{(existing.Count > 0 ? $" ({existing.Count} replaced; runs that already used them are not re-run)" : string.Empty)}");
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The keys that have a marker already: by name in a folder; in a bucket one read per key for a
    /// few keys, else one listing of the store (a range of 100,000 keys is ~100 list requests, not 100,000 reads).
    /// </summary>
    private static async Task<List<RunKey>> ExistingAsync(Engine.Markers.IMarkerStore store, IReadOnlyList<RunKey> keys, CancellationToken ct)
    {
        if (store is Engine.Markers.Folder.FolderMarkerStore)
        {
            return keys.Where(k => File.Exists(store.Locate(k))).ToList();
        }

        if (keys.Count <= 20)
        {
            var found = new List<RunKey>();
            foreach (var key in keys)
            {
                if (await store.ReadStoredAsync(key, ct) is { } stored)
                {
                    if (stored.NotAMarker is { } reason)
                    {
                        throw new IOException($"marker {store.Locate(key)} {reason}; nothing was written");
                    }

                    found.Add(key);
                }
            }

            return found;
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var entry in store.ScanAsync(ct))
        {
            listed.Add(entry.RelativePath);
        }

        return keys.Where(k => listed.Contains(store.Layout.Format(k))).ToList();
    }

    /// <summary>The most markers one command writes (about 11 years of hourly partitions).</summary>
    internal const int MaxMarkers = 100_000;

    /// <summary>The keys of a partition or of an inclusive range <c>FROM..TO</c> of the job's grain (as <c>replay</c> takes them).</summary>
    private static List<RunKey> Keys(Workspace ws, string job, string text)
    {
        var (from, to) = ws.Range(job, text);
        var span = from.Grain == Grain.Daily
            ? to.Date.DayNumber - from.Date.DayNumber
            : (long)(to.Start - from.Start).TotalHours;
        if (span >= MaxMarkers)
        {
            throw new CliException($"the range {text} holds {span + 1:N0} partitions; one `cascade done` writes at most {MaxMarkers:N0} markers: split the range");
        }

        var keys = new List<RunKey>((int)span + 1);
        for (var p = from; p <= to; p = p.Add(1))
        {
            keys.Add(new RunKey(job, p));
        }

        return keys;
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
