using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers;
using Cascade.Engine.State;

namespace Cascade.Engine.Reports;

/// <summary>
/// One input of a run and why it is met or missing (what <c>cascade why</c> prints and the API's run
/// details list); <paramref name="At"/> is when it was done (its run finished), when the state knows.
/// </summary>
public sealed record InputStatus(InputRequirement Input, bool Met, string Why, DateTimeOffset? At = null);

public static class InputReport
{
    /// <summary>Every input of <paramref name="key"/> with its status, read from the state and the marker store.</summary>
    public static async Task<IReadOnlyList<InputStatus>> ExplainAsync(Pipeline pipeline, RunKey key, IRunStore store, IMarkerStore markers, CancellationToken ct)
    {
        var states = new List<InputStatus>();
        foreach (var input in pipeline.InputsOf(key))
        {
            var up = await store.GetRunAsync(input.Key, ct);
            if (up is { IsDone: true })
            {
                states.Add(new(input, true, $"done {At(up.FinishedAt)}", up.FinishedAt));
            }
            else if (pipeline.IsSatisfiedByStart(key, input))
            {
                states.Add(new(input, true, "satisfied: before the start of the chain"));
            }
            else if (await markers.ReadAsync(input.Key, ct) is not null)
            {
                states.Add(new(input, true, "marker present, not yet seen by a scheduler (start `cascade run`)"));
            }
            else
            {
                states.Add(new(input, false, up is null ? "missing: no marker yet" : $"missing: {up.State.Name()}"));
            }
        }

        return states;
    }

    private static string At(DateTimeOffset? t) =>
        t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z" : "-";
}
