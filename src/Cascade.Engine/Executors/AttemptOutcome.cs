namespace Cascade.Engine.Executors;

/// <summary>How an attempt ended.</summary>
public abstract record AttemptOutcome
{
    private AttemptOutcome()
    {
    }

    public sealed record Exited(int ExitCode) : AttemptOutcome;

    /// <summary>The attempt never started (program missing, not executable…).</summary>
    public sealed record NotStarted(string Reason) : AttemptOutcome;

    /// <summary>Stopped by the scheduler shutting down; the run is queued again on the next start.</summary>
    public sealed record Killed : AttemptOutcome;
}
