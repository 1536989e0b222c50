using Cascade.Core.Model;
using Cascade.Engine.Reports;
using Cascade.Engine.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>POST /api/cancel</c> <c>{backfill}</c> or <c>{job, partition}</c> (a partition or range), and
/// <c>dry_run?</c>: as <c>cascade cancel</c>; answers with the runs it cancels.
/// </summary>
internal static class CancelApi
{
    public static void Map(RouteGroupBuilder group) => group.MapPost("/", CancelAsync);

    private static async Task CancelAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var ct = context.RequestAborted;
        using var body = await JsonBody.ReadAsync(context, ["backfill", "job", "partition", "dry_run"]);
        var backfill = body.OptionalString("backfill");
        RunKey? key = null;
        var to = default(Partition);
        if (body.OptionalString("job") is { } job)
        {
            var name = Targets.Job(api.Pipeline, job).Name;
            var (from, last) = Targets.Range(api.Pipeline, name, body.RequiredString("partition"));
            (key, to) = (new RunKey(name, from), last);
        }
        else if (body.OptionalString("partition") is not null)
        {
            throw ProblemException.BadRequest("partition needs job", "job");
        }

        if ((key is null) == (backfill is null))
        {
            throw ProblemException.BadRequest("give either job and partition, or backfill");
        }

        var dryRun = body.Bool("dry_run");
        var store = dryRun ? null : await api.OpenWriterAsync(ct);
        await using (store)
        {
            var plan = await api.Desk.PlanCancelAsync((Engine.State.IRunStore?)store ?? api.Reader, backfill, key, to, ct);
            void Targets(System.Text.Json.Utf8JsonWriter w) => CancelPlanJson.WriteMembers(w, plan.What, plan.Targets, dryRun);

            if (dryRun)
            {
                await JsonReply.OkAsync(context, w =>
                {
                    w.WriteStartObject();
                    Targets(w);
                    w.WriteEndObject();
                });
                return;
            }

            var id = await api.Desk.CancelAsync(store!, plan, ct);
            await Accepted.WriteAsync(context, api, id, Targets);
        }
    }
}
