using Cascade.Core.Scheduling;

namespace Cascade.Cli.Output;

/// <summary>How states are named and coloured for people.</summary>
internal static class States
{
    public static string Name(RunState state) => state.Name();

    public static string Colour(RunState state) => state switch
    {
        RunState.Succeeded => "green",
        RunState.Failed or RunState.TimedOut => "red",
        RunState.UpstreamFailed => "darkorange",
        RunState.Running => "blue",
        RunState.Queued => "yellow",
        _ => "grey",
    };

    public static string Markup(RunState state) => $"[{Colour(state)}]{Name(state)}[/]";

    public static bool TryParse(string text, out RunState state) => RunStates.TryParse(text.Trim().ToLowerInvariant(), out state);

    public static string All => string.Join(", ", Enum.GetValues<RunState>().Select(s => s.Name()));

    /// <summary>A time for people: UTC to the second, or "-" when not reached.</summary>
    public static string At(DateTimeOffset? t) =>
        t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z" : "-";
}
