using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;

namespace Cascade.Cli.Output;

/// <summary>
/// What <c>cascade run</c> prints: one line per change a person cares about, each stamped with the
/// moment it is printed, under one lock, so lines come in time order; a summary at the end.
/// A command's "started" line is printed when its process has really started (not when the start
/// was decided), and its duration is measured from that moment to its exit.
/// </summary>
internal sealed class RunPrinter(bool quiet, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<RunKey, Run> _touched = [];
    private readonly Dictionary<(RunKey Key, int Generation, int Attempt), DateTimeOffset> _processStarted = [];
    private int _foundDone;
    private bool _ready;

    /// <summary>Whether a run this invocation changed ended failed, timed_out or upstream_failed.</summary>
    public bool AnyBroken
    {
        get
        {
            lock (_gate)
            {
                return _touched.Values.Any(r => r.IsBroken);
            }
        }
    }

    public void OnReady()
    {
        lock (_gate)
        {
            _ready = true;
            Print($"ready: {_foundDone} run(s) found done by markers in the store", error: false);
        }
    }

    /// <summary>An attempt's process has started (raised by the executor's thread).</summary>
    public void OnAttemptStarted(Activation a)
    {
        lock (_gate)
        {
            _processStarted[(a.Key, a.Generation, a.Attempt)] = time.GetUtcNow();
            var triggered = _touched.TryGetValue(a.Key, out var run) && run.Cause == "trigger";
            if (!quiet)
            {
                Print($"{a.Key.Job} {a.Key.Partition.Key}  started (attempt {a.Attempt}{(triggered ? ", triggered" : string.Empty)})", error: false);
            }
        }
    }

    public void OnChanged(SchedulerEffect.RunChanged change)
    {
        lock (_gate)
        {
            var run = change.Run;
            _touched[run.Key] = run;
            if (!_ready && change.Event == "succeeded" && run.Attempt == 0)
            {
                _foundDone++;
                return;
            }

            var what = Describe(change);
            var bad = change.Event is "failed" or "retry" or "timed_out" or "upstream_failed" or "deadline_missed";
            if (what is not null && (!quiet || bad))
            {
                Print($"{run.Key.Job} {run.Key.Partition.Key}  {what}", bad);
            }

            if (change.Event is "succeeded" or "failed" or "retry" or "cancelled" or "superseded")
            {
                _processStarted.Remove((run.Key, run.Generation, run.Attempt));
            }
        }
    }

    /// <summary>Counts every run this invocation changed (runs found done by markers included), as <c>cascade status</c> counts them.</summary>
    public void PrintSummary(bool stopped)
    {
        lock (_gate)
        {
            var verb = stopped ? "stopped" : "idle";
            if (_touched.Count == 0)
            {
                Console.WriteLine($"{verb}: nothing to do (no run changed). See `cascade status`.");
                return;
            }

            var counts = _touched.Values.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => Count(g.Key, g.ToList()));
            Console.WriteLine($"{verb}: {_touched.Count} run(s) changed by this run: {string.Join(", ", counts)} — `cascade status` for all runs");
            foreach (var run in _touched.Values.Where(r => r.State == RunState.Waiting).Take(3))
            {
                Console.WriteLine($"  {run.Key.Job} {run.Key.Partition.Key} is waiting for inputs: cascade why {run.Key.Job} {run.Key.Partition.Key}");
            }
        }
    }

    private static string Count(RunState state, List<Run> runs)
    {
        var text = $"{runs.Count} {States.Name(state)}";
        var byMarker = state == RunState.Succeeded ? runs.Count(r => r.Attempt == 0) : 0;
        var cancelled = runs.Count(States.IsCancelled);
        return byMarker > 0 ? $"{text} ({byMarker} done by markers)"
            : cancelled > 0 ? $"{text} ({cancelled} cancelled)"
            : text;
    }

    private string? Describe(SchedulerEffect.RunChanged change)
    {
        var run = change.Run;
        var logs = $"cascade logs {run.Key.Job} {run.Key.Partition.Key}";
        return change.Event switch
        {
            "started" => null, // printed when the process has started: OnAttemptStarted
            "succeeded" when run.Attempt == 0 => "done (marker)",
            "succeeded" => $"succeeded in {Elapsed(run)}",
            "retry" => $"failed ({run.Reason}); retry at {run.NextRetryAt:HH:mm:ss}Z — {logs}",
            "failed" => $"FAILED: {run.Reason}{(_processStarted.ContainsKey((run.Key, run.Generation, run.Attempt)) ? $" after {Elapsed(run)} — {logs}" : string.Empty)}",
            "timed_out" => $"TIMED OUT: {run.Reason}",
            "upstream_failed" => $"upstream_failed: {run.Reason}",
            "late" => change.Detail,
            "deadline_missed" => change.Detail,
            "interrupted" => "was running when the last scheduler stopped; queued again",
            "resumed" or "resent" => change.Detail,
            "exited" when run.ExitCode is not 0 => change.Detail ?? "exited",
            "superseded" => change.Detail,
            "cancelled" => "cancelled (state failed, reason cancelled)",
            _ => null,
        };
    }

    /// <summary>The attempt's own duration: from its process start to its exit.</summary>
    private string Elapsed(Run run) =>
        _processStarted.TryGetValue((run.Key, run.Generation, run.Attempt), out var started) && run.FinishedAt is { } finished
            ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (finished - started).TotalSeconds):0.00}s")
            : "?";

    private void Print(string text, bool error)
    {
        var line = $"{time.GetUtcNow().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {text}";
        (error ? Console.Error : Console.Out).WriteLine(line);
    }
}
