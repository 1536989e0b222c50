using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Core.Tests.Replay;

/// <summary>Replay, backfill and cancel inputs for the <see cref="Harness"/>, and a way to let a pipeline run to rest.</summary>
internal static class ReplayDriver
{
    public static IReadOnlyList<SchedulerEffect> Replay(this Harness h, string job, string from, string? to = null, bool downstream = false, bool force = false) =>
        h.Handle(new ReplayRequested(job, Build.P(from), Build.P(to ?? from), downstream, force, h.Now));

    public static IReadOnlyList<SchedulerEffect> Backfill(this Harness h, string id, string from, string to, int? maxParallel = null, params string[] jobs) =>
        h.Handle(new BackfillRequested(id, jobs, Build.Date(from), Build.Date(to), maxParallel, h.Now));

    public static IReadOnlyList<SchedulerEffect> CancelBackfill(this Harness h, string id) =>
        h.Handle(new CancelRequested(id, null, h.Now));

    public static IReadOnlyList<SchedulerEffect> CancelRun(this Harness h, string job, string partition) =>
        h.Handle(new CancelRequested(null, Build.Key(job, partition), h.Now));

    /// <summary>A marker observed with the write time the store reports for it.</summary>
    public static IReadOnlyList<SchedulerEffect> MarkerWritten(this Harness h, string job, string partition, DateTimeOffset writtenAt) =>
        h.Handle(new MarkerObserved(Build.Key(job, partition), MarkerBody.Empty, h.Now, writtenAt));

    public static IReadOnlyList<Run> Running(this Harness h) =>
        [.. h.Scheduler.Runs.Where(r => r.State == RunState.Running).OrderBy(r => r.Key)];

    /// <summary>Every running attempt exits 0 (oldest first), again and again, until nothing runs; returns every effect.</summary>
    public static List<SchedulerEffect> Settle(this Harness h, int maxSteps = 10_000)
    {
        var all = new List<SchedulerEffect>();
        for (var step = 0; step < maxSteps; step++)
        {
            var running = h.Running();
            if (running.Count == 0)
            {
                return all;
            }

            var run = running[0];
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            all.AddRange(h.Handle(new RunExited(run.Key, run.Generation, run.Attempt, 0, null, h.Now)));
        }

        throw new Xunit.Sdk.XunitException($"the pipeline did not come to rest within {maxSteps} exits");
    }

    /// <summary>The keys of the activations, as "job partition".</summary>
    public static List<string> Names(this IEnumerable<Activation> starts) => [.. starts.Select(a => a.Key.ToString())];

    public static List<string> StartedIn(IEnumerable<SchedulerEffect> effects) => Harness.StartsIn(effects).Names();

    public static List<RunKey> SupersededIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<SupersedeMarker>().Select(s => s.Key).Order()];

    /// <summary>How many attempts of the key started, over all generations.</summary>
    public static int StartsOf(this Harness h, string job, string partition) =>
        h.Starts.Count(a => a.Key == Build.Key(job, partition));
}
