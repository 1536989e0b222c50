using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;

namespace Cascade.Core.Scheduling;

/// <summary>
/// The time rules, all decided against the time carried by the inputs: cron ticks with catch-up,
/// retry backoff, wait deadlines and SLA deadlines.
/// </summary>
public sealed partial class Scheduler
{
    private const int MaxTicksPerStep = 10_000;
    private const string ScheduleCursor = "schedule:";
    private const string SlaCursor = "sla:";
    private const string SlaMissCursor = "sla-miss:";

    private readonly SortedSet<(DateTimeOffset At, RunKey Key)> _waitDeadlines = [];
    private readonly Dictionary<string, DateTimeOffset> _lastTick = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Partition> _slaCheckedThrough = new(StringComparer.Ordinal);
    private readonly SortedSet<RunKey> _slaMissed = [];

    /// <summary>When the scheduler next needs a <see cref="SchedulerInput.TimePassed"/> input, if ever.</summary>
    public DateTimeOffset? NextWakeAt
    {
        get
        {
            DateTimeOffset? next = null;
            void Consider(DateTimeOffset? t)
            {
                if (t is { } v && (next is null || v < next))
                {
                    next = v;
                }
            }

            Consider(_retries.Count > 0 ? _retries.Min.At : null);
            Consider(_waitDeadlines.Count > 0 ? _waitDeadlines.Min.At : null);
            foreach (var job in _timedJobs)
            {
                if (job.Schedule is { } s)
                {
                    Consider(s.Cron.NextAfter(_lastTick.TryGetValue(job.Name, out var last) ? last : _now));
                }

                if (job.Deadline is not null && _slaCheckedThrough.TryGetValue(job.Name, out var checkedThrough))
                {
                    Consider(_pipeline.DeadlineOf(new RunKey(job.Name, checkedThrough.Add(1))));
                }
            }

            return next;
        }
    }

    /// <summary>Open SLA misses: runs that missed their deadline and have not succeeded since.</summary>
    public IReadOnlyCollection<RunKey> SlaMisses => _slaMissed;

    private void AdvanceClock(DateTimeOffset now)
    {
        PromoteDueRetries(now);
        FireWaitDeadlines(now);
        FireSchedules(now);
        CheckDeadlines(now);
    }

    private void FireSchedules(DateTimeOffset now)
    {
        foreach (var job in _pipeline.Jobs)
        {
            if (job.Schedule is not { } schedule)
            {
                continue;
            }

            if (!_lastTick.TryGetValue(job.Name, out var from))
            {
                // No start: the schedule begins now (a tick at this very instant counts); ticks
                // before the first sight are not caught up.
                from = InitialTickCursor(job, schedule) ?? now.AddTicks(-1);
            }

            var ticks = new List<DateTimeOffset>();
            if (!schedule.Catchup && LatestTick(schedule, from, now) is { } latest)
            {
                // Only the latest counts; count the skipped ones without walking years of ticks.
                from = latest.AddTicks(-1);
                ticks.Add(latest);
            }
            else
            {
                for (var t = schedule.Cron.NextAfter(from); t is { } tick && tick <= now && ticks.Count < MaxTicksPerStep; t = schedule.Cron.NextAfter(tick))
                {
                    ticks.Add(tick);
                }
            }

            if (ticks.Count == 0)
            {
                if (!_lastTick.ContainsKey(job.Name))
                {
                    MoveTickCursor(job.Name, from);
                }

                continue;
            }

            var due = ticks;
            if (!schedule.Catchup && _skippedTicks > 0)
            {
                var count = _skippedTicks >= MaxTicksPerStep ? $"over {MaxTicksPerStep}" : _skippedTicks.ToString(CultureInfo.InvariantCulture);
                Warn($"{job.Name}: {count} missed tick(s) not caught up (catchup: false); running only the latest");
            }

            foreach (var tick in due)
            {
                var key = new RunKey(job.Name, _pipeline.PartitionAt(tick, job.Grain).Add(schedule.PartitionOffset));
                if (!_pipeline.CanHaveRun(key))
                {
                    continue;
                }

                var run = _runs.GetValueOrDefault(key);
                if (run is null || run.State == RunState.Waiting)
                {
                    Enqueue(run ?? NewRun(key, now), "schedule", now);
                }
            }

            MoveTickCursor(job.Name, ticks[^1]);
        }
    }

    private int _skippedTicks;

    /// <summary>
    /// The last tick in (<paramref name="from"/>, <paramref name="now"/>], found by looking back from
    /// now in widening windows (so years of missed minutely ticks cost a few steps). Sets
    /// <see cref="_skippedTicks"/> to the number of earlier due ticks (counted up to a bound).
    /// </summary>
    private DateTimeOffset? LatestTick(ScheduleSpec schedule, DateTimeOffset from, DateTimeOffset now)
    {
        _skippedTicks = 0;
        for (var window = TimeSpan.FromHours(1); ; window *= 2)
        {
            var start = now - window < from ? from : now - window;
            DateTimeOffset? latest = null;
            for (var t = schedule.Cron.NextAfter(start); t is { } tick && tick <= now; t = schedule.Cron.NextAfter(tick))
            {
                latest = tick;
            }

            if (latest is not null || start == from)
            {
                if (latest is { } l)
                {
                    for (var t = schedule.Cron.NextAfter(from); t is { } tick && tick < l && _skippedTicks < MaxTicksPerStep; t = schedule.Cron.NextAfter(tick))
                    {
                        _skippedTicks++;
                    }
                }

                return latest;
            }
        }
    }

    /// <summary>With a <c>start</c>, ticks are caught up from the first one that runs the start partition.</summary>
    private DateTimeOffset? InitialTickCursor(JobDefinition job, ScheduleSpec schedule)
    {
        if (job.Start is not { } start)
        {
            return null;
        }

        var first = job.Grain == Grain.Daily ? Partition.Day(start) : Partition.Hour(start, 0);
        var earliestTick = first.Add(-Math.Max(0, schedule.PartitionOffset)).Start;
        var from = _pipeline.ToInstant(earliestTick).AddTicks(-1);

        // Skip ticks whose partition is still before start: they are not missed, they were never due.
        for (var t = schedule.Cron.NextAfter(from); t is { } tick && _pipeline.PartitionAt(tick, job.Grain).Add(schedule.PartitionOffset) < first; t = schedule.Cron.NextAfter(tick))
        {
            from = tick;
        }

        return from;
    }

    private void MoveTickCursor(string job, DateTimeOffset tick)
    {
        _lastTick[job] = tick;
        _effects.Add(new CursorMoved(ScheduleCursor + job, tick.ToString("O", CultureInfo.InvariantCulture)));
    }

    private void ArmWaitDeadline(Run run, DateTimeOffset at)
    {
        if (run.WaitDeadline is not null || _pipeline[run.Key.Job].WaitTimeout is not { } timeout)
        {
            return;
        }

        var deadline = at + timeout;
        _waitDeadlines.Add((deadline, run.Key));
        Change(run with { WaitDeadline = deadline }, "deadline", $"waits for its other inputs until {deadline:O}");
    }

    private void DisarmWaitDeadline(Run run)
    {
        if (run.WaitDeadline is { } d)
        {
            _waitDeadlines.Remove((d, run.Key));
        }
    }

    private void FireWaitDeadlines(DateTimeOffset now)
    {
        while (_waitDeadlines.Count > 0 && _waitDeadlines.Min.At <= now)
        {
            var (at, key) = _waitDeadlines.Min;
            _waitDeadlines.Remove(_waitDeadlines.Min);
            if (_runs.GetValueOrDefault(key) is { State: RunState.Waiting } run && run.WaitDeadline == at)
            {
                TimeOut(run, now);
            }
        }
    }

    private void CheckDeadlines(DateTimeOffset now)
    {
        foreach (var job in _pipeline.Jobs)
        {
            if (job.Deadline is null)
            {
                continue;
            }

            if (!_slaCheckedThrough.TryGetValue(job.Name, out var through))
            {
                // First sight: deadlines already past are history, not news.
                var p = _pipeline.PartitionAt(now, job.Grain);
                while (_pipeline.DeadlineOf(new RunKey(job.Name, p)) > now)
                {
                    p = p.Add(-1);
                }

                MoveSlaCursor(job.Name, p);
                continue;
            }

            var moved = false;
            for (var (next, n) = (through.Add(1), 0); _pipeline.DeadlineOf(new RunKey(job.Name, next)) <= now && n < MaxTicksPerStep; (next, n) = (next.Add(1), n + 1))
            {
                var key = new RunKey(job.Name, next);
                if (!_pipeline.IsBeforeStart(key) && !IsDone(key) && _slaMissed.Add(key))
                {
                    MissDeadline(key, now);
                }

                through = next;
                moved = true;
            }

            if (moved)
            {
                MoveSlaCursor(job.Name, through);
            }
        }
    }

    private void MissDeadline(RunKey key, DateTimeOffset now)
    {
        _effects.Add(new CursorMoved($"{SlaMissCursor}{key.Job}:{key.Partition.Key}", now.ToString("O", CultureInfo.InvariantCulture)));
        var deadline = _pipeline.DeadlineOf(key)!.Value;
        var run = _runs.GetValueOrDefault(key);
        var state = run is null ? "no run yet" : run.State.Name();
        var summary = $"missed its deadline {deadline.ToUniversalTime():yyyy-MM-dd HH:mm}Z ({state})";
        if (run is not null)
        {
            Change(run with { Warnings = [.. run.Warnings, summary] }, "deadline_missed", summary);
        }

        var missing = run is null || run.State == RunState.Waiting ? MissingInputs(key) : [];
        _effects.Add(new SendAlert(new Alert(AlertKind.DeadlineMissed, key, now, summary, missing, [], run?.Attempt ?? 0, run?.ExitCode)));
    }

    private void MoveSlaCursor(string job, Partition through)
    {
        _slaCheckedThrough[job] = through;
        _effects.Add(new CursorMoved(SlaCursor + job, through.Key));
    }

    /// <summary>A run succeeded: close its SLA miss (and say so) and mend the chain below it if it was broken.</summary>
    private void OnSucceeded(Run run, DateTimeOffset at)
    {
        if (_slaMissed.Remove(run.Key))
        {
            _effects.Add(new CursorMoved($"{SlaMissCursor}{run.Key.Job}:{run.Key.Partition.Key}", null));
            var deadline = _pipeline.DeadlineOf(run.Key)!.Value;
            var late = at - deadline;
            _effects.Add(new SendAlert(new Alert(AlertKind.DeadlineRecovered, run.Key, at, $"recovered: succeeded {Duration.Format(TimeSpan.FromSeconds(Math.Round(late.TotalSeconds)))} after its deadline", [], [], run.Attempt, run.ExitCode)));
        }
    }

    private void RestoreCursors(IReadOnlyDictionary<string, string> cursors)
    {
        foreach (var (name, value) in cursors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (name.StartsWith(ScheduleCursor, StringComparison.Ordinal)
                && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var tick))
            {
                _lastTick[name[ScheduleCursor.Length..]] = tick;
            }
            else if (name.StartsWith(SlaCursor, StringComparison.Ordinal) && Partition.TryParse(value, out var through))
            {
                _slaCheckedThrough[name[SlaCursor.Length..]] = through;
            }
            else if (name.StartsWith(SlaMissCursor, StringComparison.Ordinal))
            {
                var rest = name[SlaMissCursor.Length..];
                var colon = rest.LastIndexOf(':');
                if (colon > 0 && Partition.TryParse(rest[(colon + 1)..], out var p))
                {
                    _slaMissed.Add(new RunKey(rest[..colon], p));
                }
            }
        }
    }
}
