using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Microsoft.Extensions.Time.Testing;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Core.Tests.Support;

/// <summary>
/// Drives one <see cref="Scheduler"/> the way the engine would: every input is stamped with the
/// fake clock's time, and every batch of effects is checked for the ordering invariant
/// (a run's <c>running</c> change precedes its <see cref="StartRun"/>).
/// </summary>
internal sealed class Harness
{
    public static readonly DateTimeOffset T0 = new(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);

    public Harness(Pipeline pipeline, SchedulerOptions? options = null, IEnumerable<Run>? restored = null)
    {
        Options = options ?? new SchedulerOptions();
        Scheduler = new Scheduler(pipeline, Options, restored);
    }

    public Harness(params JobDefinition[] jobs)
        : this(Build.PipelineOf(jobs))
    {
    }

    public FakeTimeProvider Clock { get; } = new(T0);

    public SchedulerOptions Options { get; }

    public Scheduler Scheduler { get; }

    public DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>Every start seen so far, in order.</summary>
    public List<Activation> Starts { get; } = [];

    public IReadOnlyList<SchedulerEffect> Handle(SchedulerInput input)
    {
        var effects = Scheduler.Handle(input);
        var running = new HashSet<(RunKey, int, int)>();
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case RunChanged { Run.State: RunState.Running } c:
                    running.Add((c.Run.Key, c.Run.Generation, c.Run.Attempt));
                    break;
                case StartRun s:
                    Assert.True(
                        running.Contains((s.Activation.Key, s.Activation.Generation, s.Activation.Attempt)),
                        $"StartRun {s.Activation.Key} attempt {s.Activation.Attempt} was not preceded by its running change");
                    Starts.Add(s.Activation);
                    break;
            }
        }

        return effects;
    }

    public IReadOnlyList<SchedulerEffect> Marker(string job, string partition, MarkerBody? body = null) =>
        Handle(new MarkerObserved(Build.Key(job, partition), body ?? MarkerBody.Empty, Now));

    public IReadOnlyList<SchedulerEffect> Marker(RunKey key, MarkerBody? body = null) =>
        Handle(new MarkerObserved(key, body ?? MarkerBody.Empty, Now));

    /// <summary>The current attempt of a running run exits.</summary>
    public IReadOnlyList<SchedulerEffect> Exit(string job, string partition, int exitCode, MarkerBody? marker = null)
    {
        var run = Run(job, partition);
        return Handle(new RunExited(run.Key, run.Generation, run.Attempt, exitCode, marker, Now));
    }

    public IReadOnlyList<SchedulerEffect> Trigger(string job, string partition, IReadOnlyDictionary<string, string>? parameters = null) =>
        Handle(new TriggerRequested(Build.Key(job, partition), parameters ?? Build.Map(), Now));

    /// <summary>Moves the fake clock and tells the scheduler the time passed.</summary>
    public IReadOnlyList<SchedulerEffect> Advance(TimeSpan by)
    {
        Clock.Advance(by);
        return Handle(new TimePassed(Now));
    }

    public IReadOnlyList<SchedulerEffect> Started() => Handle(new SchedulerStarted(Now));

    public Run Run(string job, string partition) =>
        Scheduler.Get(Build.Key(job, partition)) ?? throw new Xunit.Sdk.XunitException($"no run for {job} {partition}");

    public Run? Find(string job, string partition) => Scheduler.Get(Build.Key(job, partition));

    public static IReadOnlyList<Activation> StartsIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<StartRun>().Select(s => s.Activation)];

    public static IReadOnlyList<string> WarningsIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<Warning>().Select(w => w.Message)];

    public static IReadOnlyList<string> EventsIn(IEnumerable<SchedulerEffect> effects) =>
        [.. effects.OfType<RunChanged>().Select(c => $"{c.Run.Key} {c.Event}")];

    /// <summary>No run changed, started or was warned about (bookkeeping effects may remain).</summary>
    public static void AssertNothingHappened(IReadOnlyList<SchedulerEffect> effects) =>
        Assert.DoesNotContain(effects, e => e is RunChanged or StartRun or Warning);
}
