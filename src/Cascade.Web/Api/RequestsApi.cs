using System.Globalization;
using Cascade.Engine.Reports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary><c>GET /api/requests/{id}</c>: a request left by a write, and whether a scheduler has taken it (its effects are then committed).</summary>
internal static class RequestsApi
{
    public static void Map(RouteGroupBuilder group) => group.MapGet("/{id}", GetAsync);

    private static async Task GetAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var text = Query.Route(context, "id");
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw ProblemException.BadRequest($"id '{text}' is not a request id (a whole number)", "id");
        }

        var request = await api.Reader.GetRequestAsync(id, context.RequestAborted)
            ?? throw ProblemException.NotFound($"no request {id} in the state database", "id");
        var running = api.SchedulerRuns;
        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("id", request.Id);
            w.WriteString("kind", request.Kind);
            w.WriteString("job", request.Job);
            w.WriteString("partition", request.Partition);
            RunJson.Time(w, "at", request.At);
            w.WriteBoolean("taken", request.TakenAt is not null);
            RunJson.Time(w, "taken_at", request.TakenAt);
            w.WriteBoolean("scheduler_running", running);
            w.WriteEndObject();
        });
    }
}
