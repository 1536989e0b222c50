namespace Cascade.Engine.Executors;

/// <summary>Where an attempt writes its marker and its output.</summary>
public sealed record AttemptContext(string MarkerLocation, string LogPath)
{
    /// <summary>Called once the attempt is under way (its process started), if set.</summary>
    public Action? Started { get; init; }

    /// <summary>
    /// Completes when the scheduler has recorded this attempt's run as succeeded because its marker
    /// was observed: a remote run (run.http) ends by its marker, not by the answer to its activation.
    /// </summary>
    public Task? MarkerObserved { get; init; }

    /// <summary>Why the attempt is being killed, asked when it is (a cancel, or the scheduler stopping); written to its log.</summary>
    public Func<string>? KillReason { get; init; }
}
