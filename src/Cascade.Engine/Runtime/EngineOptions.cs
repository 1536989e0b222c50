namespace Cascade.Engine.Runtime;

/// <summary>How one scheduler process runs.</summary>
public sealed record EngineOptions
{
    /// <summary>At most this many attempts at once, over all jobs.</summary>
    public int MaxParallel { get; init; } = 8;

    /// <summary>Stop once nothing is queued, running or waiting for a retry.</summary>
    public bool UntilIdle { get; init; }

    /// <summary>On stop, how long running attempts may finish before they are killed (and queued again on the next start).</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the state store's inbox (requests from the CLI) is read: the safety net, since the
    /// CLI also rings the scheduler's lock socket after it leaves a request (Linux; ADR 11).
    /// </summary>
    public TimeSpan InboxInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the marker store is rescanned in full (a safety net for missed notifications).</summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where attempts' output is kept: <c>{LogDirectory}/{partition}/{job}.g{generation}-a{attempt}.log</c> (<see cref="LogFiles"/>).</summary>
    public required string LogDirectory { get; init; }

    /// <summary>How many decisions at most go into one transaction.</summary>
    public int MaxBatch { get; init; } = 4096;
}
