using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;

namespace Cascade.Engine.Reports;

/// <summary>
/// Where a running remote (run.http) attempt stands: when its activation was sent, whether a
/// restart of the scheduler took it over (<c>on_restart</c>: waited without sending, or sent the same
/// attempt again), and until when it waits for its marker. What <c>cascade why</c> prints and the
/// API's run details carry as <c>remote</c>.
/// </summary>
/// <param name="SentAt">The attempt's recorded start: its activation was committed, then sent.</param>
/// <param name="OnRestart">The job's setting, which the next restart follows.</param>
/// <param name="Restarts">Each take-over of this attempt by a starting scheduler, oldest first.</param>
/// <param name="RunTimeoutAt">When the attempt fails for want of its marker; null = no run_timeout.</param>
/// <param name="Why">The whole explanation in one sentence.</param>
public sealed record RemoteActivation(DateTimeOffset SentAt, RemoteRestart OnRestart, IReadOnlyList<RemoteRestartEvent> Restarts, DateTimeOffset? RunTimeoutAt, string Why)
{
    /// <summary>The activation of a running remote run, or null for any other run.</summary>
    public static RemoteActivation? Of(Run? run, JobDefinition job, IReadOnlyList<RunEvent> history)
    {
        if (run is not { State: RunState.Running, Attempt: > 0, StartedAt: { } sent } || job.Run is not RunSpec.Http http)
        {
            return null;
        }

        var restarts = history
            .Where(e => e.Generation == run.Generation && e.Attempt == run.Attempt && e.Event is Resumed or Resent)
            .Select(e => new RemoteRestartEvent(e.At, e.Event == Resent ? RemoteRestart.Resend : RemoteRestart.Wait))
            .ToList();
        DateTimeOffset? deadline = job.RunTimeout is { } t ? sent + t : null;
        var until = deadline is { } d ? $"until run_timeout at {At(d)}" : "with no run_timeout (until it comes)";
        var why = restarts.Count == 0
            ? $"activation sent at {At(sent)}; waiting for its marker {until}"
            : restarts[^1].Action == RemoteRestart.Wait
                ? $"activation sent at {At(sent)} before the scheduler stopped; not sent again (on_restart: wait); waiting for its marker {until}"
                : $"activation sent at {At(sent)}, sent again at {At(restarts[^1].At)} after a restart (on_restart: resend; same attempt, so the target's idempotency key repeats); waiting for its marker {until}";
        return new RemoteActivation(sent, http.Request.OnRestart, restarts, deadline, why);
    }

    /// <summary>The history event of a take-over that sent nothing (<c>on_restart: wait</c>).</summary>
    public const string Resumed = "resumed";

    /// <summary>The history event of a take-over that sent the same attempt again (<c>on_restart: resend</c>).</summary>
    public const string Resent = "resent";

    private static string At(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";
}

/// <summary>A starting scheduler took over a remote attempt at <paramref name="At"/> and did <paramref name="Action"/>.</summary>
public sealed record RemoteRestartEvent(DateTimeOffset At, RemoteRestart Action);
