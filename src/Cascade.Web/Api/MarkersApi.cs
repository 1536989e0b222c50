using Cascade.Core.Markers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>POST /api/markers</c> <c>{job, partition, meta?, params?, force?}</c>: as <c>cascade done</c>,
/// writes the done marker of a partition or of a range <c>FROM..TO</c> into the marker store, where
/// the scheduler finds it like any producer's (no request row: a marker is the request).
/// </summary>
internal static class MarkersApi
{
    public static void Map(RouteGroupBuilder group) => group.MapPost("/", WriteAsync);

    private static async Task WriteAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        using var body = await JsonBody.ReadAsync(context, ["job", "partition", "meta", "params", "force"]);
        var job = body.RequiredString("job");
        var partition = body.RequiredString("partition");
        var marker = new MarkerBody { Params = body.StringMap("params"), Meta = body.Object("meta") };
        var (keys, replaced) = await api.Desk.WriteMarkersAsync(api.Options.Markers, job, partition, marker, body.Bool("force"), context.RequestAborted);
        var first = keys[0];
        var url = $"/api/runs/{Uri.EscapeDataString(first.Job)}/{first.Partition.Key}";
        context.Response.Headers.Location = url;
        await JsonReply.WriteAsync(context, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            w.WriteNull("request");
            w.WriteString("url", url);
            w.WriteString("job", first.Job);
            w.WriteStartArray("partitions");
            foreach (var key in keys)
            {
                w.WriteStringValue(key.Partition.Key);
            }

            w.WriteEndArray();
            w.WriteNumber("replaced", replaced);
            w.WriteBoolean("scheduler_running", api.SchedulerRuns);
            w.WriteEndObject();
        });
    }
}
