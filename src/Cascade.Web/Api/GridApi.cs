using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>GET /api/grid?from=&amp;to=</c>: the state of every job for every day of a range in one answer,
/// for the dashboard's grid. Each job has one string of state codes (<see cref="GridCodes"/>): one
/// character per day for a daily job, 24 per day (hours 00..23) for an hourly one. Without
/// <c>to</c> the range ends at the latest partition that has a run (today when none has), and
/// without <c>from</c> it spans <see cref="DefaultDays"/> days; at most <see cref="MaxDays"/>.
/// </summary>
internal static class GridApi
{
    public const int DefaultDays = 14;
    public const int MaxDays = 366;

    public static void Map(RouteGroupBuilder group) => group.MapGet("/", GridAsync);

    private static async Task GridAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var ct = context.RequestAborted;
        var from = Day(context, "from");
        var to = Day(context, "to");
        if (to is null)
        {
            if (from is { } f)
            {
                to = f.AddDays(DefaultDays - 1);
            }
            else
            {
                var latest = await api.Reader.LatestPartitionAsync(ct);
                to = latest is not null && Partition.TryParse(latest, out var p)
                    ? p.Date
                    : api.Pipeline.PartitionAt(api.Time.GetUtcNow(), Grain.Daily).Date;
            }
        }

        from ??= to.Value.AddDays(-(DefaultDays - 1));
        if (to < from)
        {
            throw ProblemException.BadRequest($"to {Key(to.Value)} is before from {Key(from.Value)}", "to");
        }

        var days = to.Value.DayNumber - from.Value.DayNumber + 1;
        if (days > MaxDays)
        {
            throw ProblemException.BadRequest($"the range {Key(from.Value)}..{Key(to.Value)} has {days} days; at most {MaxDays} are shown at once", "to");
        }

        var cells = await api.Reader.RunCellsAsync(Key(from.Value), Key(to.Value), ct);
        var rows = new Dictionary<string, char[]>(StringComparer.Ordinal);
        foreach (var job in api.Pipeline.Jobs)
        {
            rows[job.Name] = Enumerable.Repeat(GridCodes.None, job.Grain == Grain.Hourly ? days * 24 : days).ToArray();
        }

        foreach (var cell in cells)
        {
            // A run of a job no longer in the pipeline, or of the other grain, has no cell.
            if (!rows.TryGetValue(cell.Job, out var row) || !Partition.TryParse(cell.Partition, out var partition))
            {
                continue;
            }

            var day = partition.Date.DayNumber - from.Value.DayNumber;
            var index = row.Length == days ? day : (day * 24) + partition.HourOfDay;
            if (day >= 0 && day < days && (partition.Grain == Grain.Hourly) == (row.Length != days))
            {
                row[index] = GridCodes.Of(cell.State);
            }
        }

        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("from", Key(from.Value));
            w.WriteString("to", Key(to.Value));
            w.WriteNumber("days", days);
            WriteCodes(w);
            w.WriteStartArray("jobs");
            foreach (var job in api.Pipeline.Jobs)
            {
                w.WriteStartObject();
                w.WriteString("name", job.Name);
                w.WriteString("grain", job.Grain == Grain.Hourly ? "hourly" : "daily");
                w.WriteString("kind", job.Run is RunSpec.External ? "external" : "command");
                w.WriteString("cells", rows[job.Name]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The <c>codes</c> object: each state code and the state it stands for.</summary>
    public static void WriteCodes(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteStartObject("codes");
        w.WriteString(GridCodes.None.ToString(), "none");
        foreach (var (code, state) in GridCodes.All())
        {
            w.WriteString(code.ToString(), state);
        }

        w.WriteEndObject();
    }

    private static DateOnly? Day(HttpContext context, string name) =>
        Query.String(context, name) is { } text ? Query.Partition(text, name).Date : null;

    public static string Key(DateOnly day) => day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
