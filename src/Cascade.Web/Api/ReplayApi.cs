using Cascade.Engine.Reports;
using Cascade.Engine.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>POST /api/replay</c> <c>{job, from, to?, downstream?, dry_run?, force?}</c>: as <c>cascade replay</c>.
/// With <c>dry_run</c> it answers 200 with exactly the plan <c>replay --json --dry-run</c> prints and
/// changes nothing; otherwise 202 with the request and the plan.
/// </summary>
internal static class ReplayApi
{
    public static void Map(RouteGroupBuilder group) => group.MapPost("/", ReplayAsync);

    private static async Task ReplayAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var ct = context.RequestAborted;
        using var body = await JsonBody.ReadAsync(context, ["job", "from", "to", "downstream", "dry_run", "force"]);
        var job = Targets.Job(api.Pipeline, body.RequiredString("job")).Name;
        var fromText = body.RequiredString("from");
        var toText = body.OptionalString("to");
        var from = Targets.Key(api.Pipeline, job, fromText, "from").Partition;
        var to = toText is null ? from : Targets.Key(api.Pipeline, job, toText, "to").Partition;
        if (to < from)
        {
            throw ProblemException.BadRequest($"the range {from.Key}..{to.Key} ends before it starts", "to");
        }

        var downstream = body.Bool("downstream");
        var dryRun = body.Bool("dry_run");
        var force = body.Bool("force");
        if (dryRun)
        {
            var plan = await api.Desk.PlanReplayAsync(api.Reader, job, from, to, downstream, ct);
            await JsonReply.OkAsync(context, w => ReplayPlanJson.Write(w, plan, api.Pipeline, dryRun: true));
            return;
        }

        await using var store = await api.OpenWriterAsync(ct);
        var planned = await api.Desk.PlanReplayAsync(store, job, from, to, downstream, ct);
        var id = await api.Desk.ReplayAsync(store, planned, job, from, to, downstream, force, ct);
        await Accepted.WriteAsync(context, api, id, w => ReplayPlanJson.WriteMembers(w, planned, api.Pipeline, dryRun: false));
    }
}
