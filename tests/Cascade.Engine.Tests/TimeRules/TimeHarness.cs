using System.Globalization;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>
/// Drives a <see cref="Scheduler"/> built from YAML the way the engine does, with explicit times
/// (no clock): every batch of effects is "committed" into <see cref="Stored"/> runs and
/// <see cref="Cursors"/>, so <see cref="Restart"/> can rebuild the scheduler from what a store
/// would hold. Each batch is checked for the ordering invariant (running change before StartRun).
/// </summary>
internal sealed class TimeHarness
{
    public TimeHarness(string yaml, SchedulerOptions? options = null)
        : this(Load(yaml), options, SchedulerSnapshot.Empty)
    {
    }

    public TimeHarness(Pipeline pipeline, SchedulerOptions? options, SchedulerSnapshot snapshot)
    {
        Pipeline = pipeline;
        Options = options ?? new SchedulerOptions();
        foreach (var run in snapshot.Runs)
        {
            Stored[run.Key] = run;
        }

        foreach (var (name, value) in snapshot.Cursors)
        {
            Cursors[name] = value;
        }

        Scheduler = new Scheduler(Pipeline, Options, Snapshot());
    }

    public Pipeline Pipeline { get; }

    public SchedulerOptions Options { get; }

    public Scheduler Scheduler { get; private set; }

    /// <summary>The latest value of every run, as the state store would hold it.</summary>
    public Dictionary<RunKey, Run> Stored { get; } = [];

    /// <summary>Named cursors, as the state store would hold them (a null value deletes).</summary>
    public Dictionary<string, string> Cursors { get; } = new(StringComparer.Ordinal);

    /// <summary>Every start seen so far, over restarts, in order.</summary>
    public List<Activation> Starts { get; } = [];

    /// <summary>Every alert sent so far, over restarts, in order.</summary>
    public List<Alert> Alerts { get; } = [];

    public static Pipeline Load(string yaml)
    {
        var result = PipelineLoader.Load(yaml, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }

    /// <summary>An instant in UTC written as <c>2019-03-13T02:00</c> (seconds and fractions allowed).</summary>
    public static DateTimeOffset Utc(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static RunKey Key(string job, string partition) => new(job, Partition.Parse(partition));

    public SchedulerSnapshot Snapshot() => new([.. Stored.Values.OrderBy(r => r.Key)], new Dictionary<string, string>(Cursors, StringComparer.Ordinal));

    /// <summary>The process stops and a new one takes over the committed state (no input is sent yet).</summary>
    public void Restart(SchedulerOptions? options = null) => Scheduler = new Scheduler(Pipeline, options ?? Options, Snapshot());

    public IReadOnlyList<SchedulerEffect> Markers(DateTimeOffset at, params string[] markers) =>
        Handle(new MarkersObserved([.. markers.Select(m => m.Split(' ')).Select(m => new ObservedMarker(Key(m[0], m[1]), MarkerBody.Empty))], at));

    public IReadOnlyList<SchedulerEffect> Handle(SchedulerInput input)
    {
        var effects = Scheduler.Handle(input);
        var running = new HashSet<(RunKey, int, int)>();
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case RunChanged c:
                    Stored[c.Run.Key] = c.Run;
                    if (c.Run.State == RunState.Running)
                    {
                        running.Add((c.Run.Key, c.Run.Generation, c.Run.Attempt));
                    }

                    break;
                case StartRun s:
                    Assert.True(
                        running.Contains((s.Activation.Key, s.Activation.Generation, s.Activation.Attempt)),
                        $"StartRun {s.Activation.Key} attempt {s.Activation.Attempt} was not preceded by its running change");
                    Starts.Add(s.Activation);
                    break;
                case CursorMoved { Value: null } m:
                    Cursors.Remove(m.Name);
                    break;
                case CursorMoved m:
                    Cursors[m.Name] = m.Value;
                    break;
                case SendAlert a:
                    Alerts.Add(a.Alert);
                    break;
            }
        }

        return effects;
    }

    public IReadOnlyList<SchedulerEffect> Started(DateTimeOffset at) => Handle(new SchedulerStarted(at));

    public IReadOnlyList<SchedulerEffect> Time(DateTimeOffset at) => Handle(new TimePassed(at));

    /// <summary>Sends <see cref="TimePassed"/> every <paramref name="step"/> from <paramref name="from"/> through <paramref name="to"/>; returns every effect.</summary>
    public List<SchedulerEffect> Tick(DateTimeOffset from, DateTimeOffset to, TimeSpan step)
    {
        var all = new List<SchedulerEffect>();
        for (var t = from; t <= to; t += step)
        {
            all.AddRange(Time(t));
        }

        return all;
    }

    public IReadOnlyList<SchedulerEffect> Marker(string job, string partition, DateTimeOffset at) =>
        Handle(new MarkerObserved(Key(job, partition), MarkerBody.Empty, at));

    public IReadOnlyList<SchedulerEffect> Trigger(string job, string partition, DateTimeOffset at) =>
        Handle(new TriggerRequested(Key(job, partition), new Dictionary<string, string>(), at));

    /// <summary>The current attempt of a running run exits.</summary>
    public IReadOnlyList<SchedulerEffect> Exit(string job, string partition, int exitCode, DateTimeOffset at)
    {
        var run = Run(job, partition);
        Assert.Equal(RunState.Running, run.State);
        return Handle(new RunExited(run.Key, run.Generation, run.Attempt, exitCode, null, at));
    }

    public Run Run(string job, string partition) =>
        Scheduler.Get(Key(job, partition)) ?? throw new Xunit.Sdk.XunitException($"no run for {job} {partition}");

    public Run? Find(string job, string partition) => Scheduler.Get(Key(job, partition));

    /// <summary>"job partition" of every run queued in these effects, in order (retries and restarts excluded).</summary>
    public static List<string> QueuedIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<RunChanged>().Where(c => c.Event == "queued").Select(c => c.Run.Key.ToString())];

    public static List<string> StartedIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<StartRun>().Select(s => s.Activation.Key.ToString())];

    public static List<Alert> AlertsIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<SendAlert>().Select(a => a.Alert)];

    public static List<string> WarningsIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<Warning>().Select(w => w.Message)];

    /// <summary>No run changed or started and no alert or warning (cursor bookkeeping may remain).</summary>
    public static void AssertNothingHappened(IReadOnlyList<SchedulerEffect> effects) =>
        Assert.DoesNotContain(effects, e => e is RunChanged or StartRun or SendAlert or Warning);
}
