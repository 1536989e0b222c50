using System.Text.Json;
using Cascade.Core.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary><c>GET /api/jobs</c>: every job with its grain, schedule, inputs and its runs counted by state.</summary>
internal static class JobsApi
{
    public static void Map(RouteGroupBuilder group) => group.MapGet("/", ListAsync);

    private static async Task ListAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var counts = (await api.Reader.CountRunsAsync(context.RequestAborted)).ToLookup(c => c.Job, StringComparer.Ordinal);
        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var job in api.Pipeline.Jobs)
            {
                Write(w, api.Pipeline, job, counts[job.Name]);
            }

            w.WriteEndArray();
        });
    }

    private static void Write(Utf8JsonWriter w, Pipeline pipeline, JobDefinition job, IEnumerable<Engine.State.RunCount> counts)
    {
        w.WriteStartObject();
        w.WriteString("name", job.Name);
        w.WriteString("grain", job.Grain.ToString().ToLowerInvariant());
        w.WriteString("kind", job.Run is RunSpec.External ? "external" : "command");
        if (job.Schedule is { } schedule)
        {
            w.WriteStartObject("schedule");
            w.WriteString("cron", schedule.Cron.Expression);
            w.WriteString("time_zone", pipeline.Definition.TimeZone);
            w.WriteNumber("partition_offset", schedule.PartitionOffset);
            w.WriteBoolean("catchup", schedule.Catchup);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("schedule");
        }

        w.WriteStartArray("after");
        foreach (var dep in job.After)
        {
            w.WriteStartObject();
            w.WriteString("job", dep.Job);
            w.WriteNumber("offset", dep.Offset);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (pipeline.EffectiveStart(job.Name) is { } start)
        {
            w.WriteString("start", start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull("start");
        }

        w.WriteStartObject("counts");
        foreach (var c in counts)
        {
            w.WriteNumber(c.State, c.Count);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }
}
