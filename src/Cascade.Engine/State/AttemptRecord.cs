namespace Cascade.Engine.State;

/// <summary>One attempt of a run: when it started and ended, and how.</summary>
public sealed record AttemptRecord(int Generation, int Attempt, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int? ExitCode, string? Outcome);
