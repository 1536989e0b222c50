namespace Cascade.Core.Scheduling;

/// <summary>
/// What a scheduler restores from the state store: the latest run of every key, and named cursors
/// (the last schedule tick handled per job, the last partition whose SLA was checked, open SLA
/// misses) written by <see cref="SchedulerEffect.CursorMoved"/>.
/// </summary>
public sealed record SchedulerSnapshot(IReadOnlyList<Run> Runs, IReadOnlyDictionary<string, string> Cursors)
{
    public static readonly SchedulerSnapshot Empty = new([], new Dictionary<string, string>());
}
