using Cascade.Core.Pipelines;
using Cronos;

namespace Cascade.Engine.Schedules;

/// <summary>
/// A standard 5-field cron expression evaluated by Cronos in the pipeline's time zone. Cronos
/// handles daylight-saving changes: a tick in a skipped hour runs once right after the change, a
/// tick in a repeated hour runs once.
/// </summary>
public sealed class CronSchedule : ISchedule
{
    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    private CronSchedule(string text, CronExpression expression, TimeZoneInfo zone)
    {
        Expression = text;
        _expression = expression;
        _zone = zone;
    }

    public string Expression { get; }

    public static bool TryParse(string text, TimeZoneInfo zone, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        try
        {
            schedule = new CronSchedule(text, CronExpression.Parse(text, CronFormat.Standard), zone);
            return true;
        }
        catch (CronFormatException e)
        {
            error = $"'{text}' is not a 5-field cron expression (minute hour day-of-month month day-of-week): {e.Message}";
            return false;
        }
        catch (MissingSeedException)
        {
            // Cronos reads H (a hashed value, as in Jenkins) but needs a seed for it; Cascade offers none.
            error = $"'{text}' uses H (a hashed value), which Cascade does not support: write the minute or hour itself (e.g. '17 2 * * *')";
            return false;
        }
    }

    public DateTimeOffset? NextAfter(DateTimeOffset after) => _expression.GetNextOccurrence(after, _zone, inclusive: false);
}
