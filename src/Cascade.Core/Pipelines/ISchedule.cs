namespace Cascade.Core.Pipelines;

/// <summary>
/// A parsed cron schedule in the pipeline's time zone. Implementations must be pure and
/// deterministic (same input, same answer) so the scheduler core stays a deterministic function.
/// </summary>
public interface ISchedule
{
    /// <summary>The expression as written.</summary>
    string Expression { get; }

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when there is none.</summary>
    DateTimeOffset? NextAfter(DateTimeOffset after);
}
