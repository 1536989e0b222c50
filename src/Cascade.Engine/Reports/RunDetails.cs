using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers;
using Cascade.Engine.State;

namespace Cascade.Engine.Reports;

/// <summary>Everything known of one run key: every generation, attempt and history line, and its inputs.</summary>
public sealed record RunDetails(RunKey Key, IReadOnlyList<Run> Generations, IReadOnlyList<AttemptRecord> Attempts, IReadOnlyList<InputStatus> Inputs, IReadOnlyList<RunEvent> History)
{
    /// <summary>The latest generation, or null when there is no run yet.</summary>
    public Run? Run => Generations.Count > 0 ? Generations[^1] : null;

    public static async Task<RunDetails> ReadAsync(Pipeline pipeline, RunKey key, IRunStore store, IMarkerStore markers, CancellationToken ct)
    {
        var generations = await store.QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key, AllGenerations = true }, ct);
        var attempts = await store.GetAttemptsAsync(key, ct);
        var inputs = await InputReport.ExplainAsync(pipeline, key, store, markers, ct);
        var history = await store.GetEventsAsync(key, ct);
        return new RunDetails(key, generations, attempts, inputs, history);
    }
}
