using System.Text.Json;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Reports;

/// <summary>The JSON of a replay plan: what <c>replay --json</c> prints and what <c>POST /api/replay</c> answers.</summary>
public static class ReplayPlanJson
{
    /// <summary>The plan's members (<c>dry_run</c>, <c>runs</c>) into an object the caller has started.</summary>
    public static void WriteMembers(Utf8JsonWriter w, ReplayPlan plan, Pipeline pipeline, bool dryRun)
    {
        w.WriteBoolean("dry_run", dryRun);
        w.WriteStartArray("runs");
        foreach (var run in plan.Runs)
        {
            w.WriteStartObject();
            w.WriteString("job", run.Key.Job);
            w.WriteString("partition", run.Key.Partition.Key);
            w.WriteNumber("depth", run.Depth);
            w.WriteString("because", run.Because?.ToString());
            w.WriteString("state", run.Current is { } s ? s.Name() : null);
            w.WriteNumber("generation", run.Generation);
            w.WriteNumber("next_generation", run.NextGeneration);
            w.WriteBoolean("starts_at_once", run.StartsAtOnce(pipeline));
            w.WriteStartArray("waits_for");
            foreach (var key in run.Depth > 0 && run.Because is { } because ? [because] : run.Missing)
            {
                w.WriteStringValue(key.ToString());
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static void Write(Utf8JsonWriter w, ReplayPlan plan, Pipeline pipeline, bool dryRun)
    {
        w.WriteStartObject();
        WriteMembers(w, plan, pipeline, dryRun);
        w.WriteEndObject();
    }
}
