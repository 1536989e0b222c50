using System.Globalization;
using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.State;

/// <summary>
/// A request left in the state store's inbox by another process (the CLI, the HTTP API): trigger,
/// replay, backfill, cancel, or notice (markers a notification named, ADR 19).
/// <see cref="Args"/> holds the kind's arguments as strings.
/// </summary>
public sealed record Request(string Kind, RunKey? Key, IReadOnlyDictionary<string, string> Params, DateTimeOffset At)
{
    public const string Trigger = "trigger";
    public const string Replay = "replay";
    public const string Backfill = "backfill";
    public const string Cancel = "cancel";
    public const string Notice = "notice";

    /// <summary>The most markers one notice request names (one notification's records).</summary>
    public const int MaxNotices = 1000;

    public long Id { get; init; }

    public IReadOnlyDictionary<string, string> Args { get; init; } = new Dictionary<string, string>();

    public static Request ForReplay(string job, Partition from, Partition to, bool downstream, bool force, DateTimeOffset at) =>
        new(Replay, new RunKey(job, from), new Dictionary<string, string>(), at)
        {
            Args = new Dictionary<string, string>
            {
                ["to"] = to.Key,
                ["downstream"] = downstream ? "true" : "false",
                ["force"] = force ? "true" : "false",
            },
        };

    public static Request ForBackfill(string id, IReadOnlyList<string> jobs, DateOnly from, DateOnly to, int? maxParallel, DateTimeOffset at) =>
        new(Backfill, null, new Dictionary<string, string>(), at)
        {
            Args = new Dictionary<string, string>
            {
                ["id"] = id,
                ["jobs"] = string.Join(",", jobs),
                ["from"] = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["to"] = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["max_parallel"] = maxParallel?.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
            },
        };

    /// <summary>Cancel a backfill, one run, or (with <paramref name="to"/>) the key's job from its partition to <paramref name="to"/>.</summary>
    public static Request ForCancel(string? backfill, RunKey? key, DateTimeOffset at, Partition? to = null) =>
        new(Cancel, key, new Dictionary<string, string>(), at)
        {
            Args = new Dictionary<string, string> { ["backfill"] = backfill ?? string.Empty, ["to"] = to?.Key ?? string.Empty },
        };

    /// <summary>
    /// Markers a notification named (paths relative to the store, with their ETag and S3 sequencer),
    /// for the scheduler to read as it reads what its watcher hands on: a notice is only a hint.
    /// </summary>
    public static Request ForNotices(IReadOnlyList<(string Path, string? ETag, string? Sequencer)> markers, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var (path, etag, sequencer) in markers)
            {
                w.WriteStartArray();
                w.WriteStringValue(path);
                w.WriteStringValue(etag);
                w.WriteStringValue(sequencer);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        return new(Notice, null, new Dictionary<string, string>(), at)
        {
            Args = new Dictionary<string, string> { ["markers"] = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) },
        };
    }

    /// <summary>The markers of a <see cref="Notice"/> request; empty when malformed or of another kind.</summary>
    public IReadOnlyList<Markers.MarkerEntry> Notices()
    {
        if (Kind != Notice || !Args.TryGetValue("markers", out var text))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 });
            var result = new List<Markers.MarkerEntry>();
            foreach (var item in document.RootElement.EnumerateArray().Take(MaxNotices))
            {
                if (item is { ValueKind: JsonValueKind.Array } && item.GetArrayLength() >= 1 && item[0] is { ValueKind: JsonValueKind.String } path && path.GetString() is { Length: > 0 } relative)
                {
                    var etag = item.GetArrayLength() > 1 && item[1].ValueKind == JsonValueKind.String ? item[1].GetString() : null;
                    result.Add(new Markers.MarkerEntry(relative, null) { ETag = etag });
                }
            }

            return result;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return [];
        }
    }

    /// <summary>
    /// The scheduler input this request asks for, or null when it is malformed (a partition or date
    /// outside the supported range included: the store reads such a key as none) or of an unknown kind.
    /// </summary>
    public SchedulerInput? ToInput(DateTimeOffset now)
    {
        string Arg(string name) => Args.TryGetValue(name, out var v) ? v : string.Empty;
        switch (Kind)
        {
            case Trigger when Key is { } key:
                return new SchedulerInput.TriggerRequested(key, Params, now);
            case Replay when Key is { } key && Partition.TryParse(Arg("to"), out var to):
                return new SchedulerInput.ReplayRequested(key.Job, key.Partition, to, Arg("downstream") == "true", Arg("force") == "true", now);
            case Backfill when DateOnly.TryParse(Arg("from"), CultureInfo.InvariantCulture, out var from) && DateOnly.TryParse(Arg("to"), CultureInfo.InvariantCulture, out var until)
                && Partition.IsSupportedDate(from) && Partition.IsSupportedDate(until):
                var jobs = Arg("jobs").Split(',', StringSplitOptions.RemoveEmptyEntries);
                int? limit = int.TryParse(Arg("max_parallel"), CultureInfo.InvariantCulture, out var n) ? n : null;
                return new SchedulerInput.BackfillRequested(Arg("id"), jobs, from, until, limit, now);
            case Cancel when Arg("to").Length == 0 || (Key is not null && Partition.TryParse(Arg("to"), out _)):
                var backfill = Arg("backfill");
                Partition? last = Partition.TryParse(Arg("to"), out var end) ? end : null;
                return new SchedulerInput.CancelRequested(backfill.Length > 0 ? backfill : null, Key, now, last);
            default:
                return null;
        }
    }
}
