using System.Globalization;
using System.Text.Json;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Reports;

/// <summary>
/// The JSON of a cancel plan and of a request left for the scheduler: what <c>cancel --json</c>
/// prints and what <c>POST /api/cancel</c> answers (the request's members are those of every
/// <c>202</c> the API gives).
/// </summary>
public static class CancelPlanJson
{
    /// <summary><c>what</c>, <c>dry_run</c> and <c>runs</c> into an object the caller has started.</summary>
    public static void WriteMembers(Utf8JsonWriter w, string what, IReadOnlyList<Run> targets, bool dryRun)
    {
        w.WriteString("what", what);
        w.WriteBoolean("dry_run", dryRun);
        w.WriteStartArray("runs");
        foreach (var run in targets)
        {
            w.WriteStartObject();
            w.WriteString("job", run.Key.Job);
            w.WriteString("partition", run.Key.Partition.Key);
            w.WriteString("state", run.State.Name());
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>A request's members: its id, the URL that tells when a scheduler has taken it, and whether one runs now.</summary>
    public static void WriteRequestMembers(Utf8JsonWriter w, long id, bool schedulerRunning)
    {
        w.WriteNumber("request", id);
        w.WriteString("url", RequestUrl(id));
        w.WriteBoolean("scheduler_running", schedulerRunning);
    }

    public static string RequestUrl(long id) => "/api/requests/" + id.ToString(CultureInfo.InvariantCulture);
}
