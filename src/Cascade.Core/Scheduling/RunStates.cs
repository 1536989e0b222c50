namespace Cascade.Core.Scheduling;

/// <summary>Groupings of <see cref="RunState"/> the rules talk about.</summary>
public static class RunStates
{
    /// <summary>A broken run breaks the chain below it: its downstream runs become <see cref="RunState.UpstreamFailed"/>.</summary>
    public static bool IsBroken(this RunState state) =>
        state is RunState.Failed or RunState.TimedOut or RunState.UpstreamFailed;

    /// <summary>What <c>cascade cancel</c> stops: a run not finished yet (waiting, queued or running).</summary>
    public static bool IsCancellable(this RunState state) =>
        state is RunState.Waiting or RunState.Queued or RunState.Running;

    /// <summary>The snake_case name used in JSON, the database and on screen.</summary>
    public static string Name(this RunState state) => state switch
    {
        RunState.Waiting => "waiting",
        RunState.Queued => "queued",
        RunState.Running => "running",
        RunState.Succeeded => "succeeded",
        RunState.Failed => "failed",
        RunState.TimedOut => "timed_out",
        RunState.UpstreamFailed => "upstream_failed",
        RunState.Superseded => "superseded",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static bool TryParse(string name, out RunState state)
    {
        foreach (var s in Enum.GetValues<RunState>())
        {
            if (s.Name() == name)
            {
                state = s;
                return true;
            }
        }

        state = default;
        return false;
    }
}
