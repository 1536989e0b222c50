using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>POST /api/backfills</c> <c>{from, to, jobs?, max_parallel?}</c>: as <c>cascade backfill --detach</c>:
/// the request is left for the running scheduler (or the next <c>cascade run</c>); follow it with
/// <c>GET /api/runs</c> or the live events.
/// </summary>
internal static class BackfillsApi
{
    public static void Map(RouteGroupBuilder group) => group.MapPost("/", BackfillAsync);

    private static async Task BackfillAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        using var body = await JsonBody.ReadAsync(context, ["from", "to", "jobs", "max_parallel"]);
        var backfill = api.Desk.PrepareBackfill(body.RequiredString("from"), body.RequiredString("to"), body.Strings("jobs"), body.OptionalInt("max_parallel"));
        await using var store = await api.OpenWriterAsync(context.RequestAborted);
        var id = await api.Desk.BackfillAsync(store, backfill, context.RequestAborted);
        await Accepted.WriteAsync(context, api, id, w =>
        {
            w.WriteString("backfill", backfill.Id);
            w.WriteString("from", backfill.From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("to", backfill.To.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartArray("start_jobs");
            foreach (var job in backfill.StartJobs)
            {
                w.WriteStringValue(job);
            }

            w.WriteEndArray();
            w.WriteStartArray("notes");
            foreach (var note in backfill.Notes)
            {
                w.WriteStringValue(note);
            }

            w.WriteEndArray();
        });
    }
}
