using Cascade.Core.Model;

namespace Cascade.Core.Scheduling;

/// <summary>
/// One alert per event (never one per broken downstream run): what happened to which run, what it
/// was missing, and which downstream jobs it broke.
/// </summary>
public sealed record Alert(
    AlertKind Kind,
    RunKey Key,
    DateTimeOffset At,
    string Summary,
    IReadOnlyList<string> MissingInputs,
    IReadOnlyList<string> BrokenDownstream,
    int Attempt,
    int? ExitCode)
{
    /// <summary>The command that explains the run.</summary>
    public string WhyCommand => $"cascade why {Key.Job} {Key.Partition.Key}";
}
