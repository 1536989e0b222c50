using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: the state database can be read (and, in <c>cascade run</c>, the scheduler's start-up is done).</summary>
internal static class HealthApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", HealthAsync);
        app.MapGet("/readyz", ReadyAsync);
    }

    private static Task HealthAsync(HttpContext context) => JsonReply.OkAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "ok");
        w.WriteEndObject();
    });

    private static async Task ReadyAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        await api.Reader.LastChangeIdAsync(context.RequestAborted); // a state that cannot be read is a 503 problem
        if (api.Options.Scheduler is not null && !api.SchedulerReady)
        {
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "the scheduler is starting (rescanning markers, recovering runs)");
            return;
        }

        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "ready");
            w.WriteBoolean("scheduler", api.SchedulerRuns);
            w.WriteEndObject();
        });
    }
}
