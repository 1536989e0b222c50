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

    /// <summary>Failed with a reason (a remote activation refused, failing, or its marker never came); retried when <paramref name="Retry"/>.</summary>
    public sealed record Failed(string Reason, bool Retry) : AttemptOutcome;

    /// <summary>Stopped by the scheduler shutting down; the run is queued again on the next start.</summary>
    public sealed record Killed : AttemptOutcome;
}
