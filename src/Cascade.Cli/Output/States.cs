using Cascade.Core.Scheduling;

namespace Cascade.Cli.Output;

/// <summary>How states are named and coloured for people.</summary>
internal static class States
{
    public static string Name(RunState state) => state.Name();

    /// <summary>
    /// A cancelled run is <c>failed</c> (the state set is closed) with the reason <c>cancelled</c>;
    /// people see both: <c>failed (cancelled)</c>. JSON keeps the state and the reason apart.
    /// </summary>
    public static bool IsCancelled(Run run) => run is { State: RunState.Failed, Reason: "cancelled" };

    /// <summary>The state as a person reads it: the state's name, with <c>(cancelled)</c> for a cancelled run.</summary>
    public static string Label(Run run) => IsCancelled(run) ? "failed (cancelled)" : Name(run.State);

    public static string Colour(RunState state) => state switch
    {
        RunState.Succeeded => "green",
        RunState.Failed or RunState.TimedOut => "red",
        RunState.UpstreamFailed => "darkorange",
        RunState.Running => "blue",
        RunState.Queued => "yellow",
        _ => "grey",
    };

    public static string Markup(Run run) => $"[{Colour(run.State)}]{Label(run)}[/]";

    public static bool TryParse(string text, out RunState state) => RunStates.TryParse(text.Trim().ToLowerInvariant(), out state);

    /// <summary>A state named by a person (any case), or a clear refusal listing the valid names.</summary>
    public static RunState Parse(string text, string option)
    {
        if (TryParse(text, out var state))
        {
            return state;
        }

        var hint = text.Trim().Equals("cancelled", StringComparison.OrdinalIgnoreCase)
            ? " (a cancelled run is failed with the reason cancelled: use --state failed)"
            : string.Empty;
        throw new CliException($"{option} '{text}' is not a state; states are {All}{hint}");
    }

    /// <summary>"3 failed (1 cancelled), 58 succeeded": runs by state, in the states' order.</summary>
    public static string Counts(IEnumerable<Run> runs) => string.Join(", ", runs
        .GroupBy(r => r.State)
        .OrderBy(g => g.Key)
        .Select(g => g.Count(IsCancelled) is var c and > 0 ? $"{g.Count()} {Name(g.Key)} ({c} cancelled)" : $"{g.Count()} {Name(g.Key)}"));

    public static string All => string.Join(", ", Enum.GetValues<RunState>().Select(s => s.Name()));

    /// <summary>A time for people: UTC to the second, or "-" when not reached.</summary>
    public static string At(DateTimeOffset? t) =>
        t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z" : "-";
}
