using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>GET /api/dag/{partition}</c>: the pipeline's DAG laid out in layers (<see cref="DagLayout"/>)
/// with each job's run for that day: a daily job's state, an hourly job's 24 hours as state codes
/// (<see cref="GridCodes"/>). An hourly partition key shows its day; <c>latest</c> the day of the latest
/// partition that has a run (today when none has), as the grid does.
/// </summary>
internal static class DagApi
{
    public static void Map(RouteGroupBuilder group) => group.MapGet("/{partition}", DagAsync);

    private static async Task DagAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var text = Query.Route(context, "partition");
        DateOnly day;
        if (text == "latest")
        {
            var latest = await api.Reader.LatestPartitionAsync(context.RequestAborted);
            day = latest is not null && Partition.TryParse(latest, out var p)
                ? p.Date
                : api.Pipeline.PartitionAt(api.Time.GetUtcNow(), Grain.Daily).Date;
        }
        else
        {
            day = Query.Partition(text, "partition").Date;
        }

        var key = GridApi.Key(day);
        var layout = api.Layout;
        var cells = await api.Reader.RunCellsAsync(key, key, context.RequestAborted);
        var daily = new Dictionary<string, string>(StringComparer.Ordinal);
        var hourly = api.Pipeline.Jobs.Where(j => j.Grain == Grain.Hourly).ToDictionary(j => j.Name, _ => Enumerable.Repeat(GridCodes.None, 24).ToArray(), StringComparer.Ordinal);
        foreach (var cell in cells)
        {
            if (!Partition.TryParse(cell.Partition, out var p) || !api.Pipeline.TryGetJob(cell.Job, out var job) || (job.Grain == Grain.Hourly) != (p.Grain == Grain.Hourly))
            {
                continue;
            }

            if (p.Grain == Grain.Hourly)
            {
                hourly[cell.Job][p.HourOfDay] = GridCodes.Of(cell.State);
            }
            else
            {
                daily[cell.Job] = cell.State;
            }
        }

        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("partition", key);
            w.WriteNumber("layers", layout.Layers);
            w.WriteNumber("width", layout.Width);
            w.WriteStartArray("layer_sizes");
            foreach (var size in layout.LayerSizes)
            {
                w.WriteNumberValue(size);
            }

            w.WriteEndArray();
            GridApi.WriteCodes(w);
            w.WriteStartArray("nodes");
            foreach (var job in api.Pipeline.Jobs)
            {
                var (layer, order) = layout.Positions[job.Name];
                w.WriteStartObject();
                w.WriteString("job", job.Name);
                w.WriteString("grain", job.Grain == Grain.Hourly ? "hourly" : "daily");
                w.WriteString("kind", job.Run is RunSpec.External ? "external" : "command");
                w.WriteNumber("layer", layer);
                w.WriteNumber("order", order);
                if (job.Grain == Grain.Hourly)
                {
                    w.WriteNull("state");
                    w.WriteString("hours", hourly[job.Name]);
                }
                else
                {
                    w.WriteString("state", daily.GetValueOrDefault(job.Name));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("edges");
            foreach (var job in api.Pipeline.Jobs)
            {
                foreach (var dep in job.After.DistinctBy(d => (d.Job, d.Offset)))
                {
                    w.WriteStartObject();
                    w.WriteString("from", dep.Job);
                    w.WriteString("to", job.Name);
                    w.WriteNumber("offset", dep.Offset);
                    w.WriteStartArray("via");
                    if (dep.Offset == 0 && layout.Waypoints.TryGetValue((dep.Job, job.Name), out var via))
                    {
                        foreach (var slot in via)
                        {
                            w.WriteStartObject();
                            w.WriteNumber("layer", slot.Layer);
                            w.WriteNumber("order", slot.Order);
                            w.WriteEndObject();
                        }
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
