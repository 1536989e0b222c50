using Cascade.Engine.Reports;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cascade.Web.Api;

/// <summary>
/// The answer to a write: <c>202 Accepted</c> with the request id and the URL that tells whether a
/// scheduler has taken it (<c>GET /api/requests/{id}</c>), and whether one runs now.
/// </summary>
internal static class Accepted
{
    public static Task WriteAsync(HttpContext context, ApiContext api, long id, Action<Utf8JsonWriter> more)
    {
        context.Response.Headers.Location = CancelPlanJson.RequestUrl(id);
        return JsonReply.WriteAsync(context, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            CancelPlanJson.WriteRequestMembers(w, id, api.SchedulerRuns);
            more(w);
            w.WriteEndObject();
        });
    }
}
