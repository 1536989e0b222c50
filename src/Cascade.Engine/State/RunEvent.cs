namespace Cascade.Engine.State;

/// <summary>One line of a run's history.</summary>
public sealed record RunEvent(DateTimeOffset At, int Generation, int Attempt, string State, string Event, string? Detail);
