using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// Plays a <see cref="Scenario"/> against the scheduler like a hostile engine would: root markers
/// (with duplicates) in random order, started attempts finishing in random order (sometimes with
/// their marker seen before or after the exit), and restarts that rebuild the scheduler from its
/// runs while attempts are in flight. It checks the invariants on every batch of effects and
/// records the inputs so the history can be replayed.
/// </summary>
internal sealed class Simulation
{
    private readonly Random _random;
    private readonly Pipeline _pipeline;
    private readonly SchedulerOptions _options;
    private readonly HashSet<RunKey> _done = [];
    private readonly Dictionary<RunKey, int> _starts = [];
    private readonly Dictionary<RunKey, int> _interruptions = [];
    private readonly List<Activation> _inFlight = [];
    private readonly List<(Func<DateTimeOffset, SchedulerInput> Input, bool Stale)> _later = [];
    private Scheduler _scheduler;
    private DateTimeOffset _now = Harness.T0;

    private Simulation(Scenario scenario)
    {
        Scenario = scenario;
        _random = new Random(scenario.Seed);
        _pipeline = scenario.Shape.Build();
        _options = Options(scenario);
        _scheduler = new Scheduler(_pipeline, _options);
    }

    public Scenario Scenario { get; }

    /// <summary>The inputs in order; null marks a restart.</summary>
    public List<SchedulerInput?> Trace { get; } = [];

    /// <summary>Every batch of effects, as text.</summary>
    public List<string> Log { get; } = [];

    public int RestartsDone { get; private set; }

    public HashSet<RunKey> RootMarkers { get; } = [];

    public Scheduler Scheduler => _scheduler;

    public IReadOnlyDictionary<RunKey, int> Starts => _starts;

    public static SchedulerOptions Options(Scenario scenario) =>
        scenario.MaxParallel == 0 ? new SchedulerOptions() : new SchedulerOptions { MaxParallel = scenario.MaxParallel };

    public static Simulation Play(Scenario scenario)
    {
        var simulation = new Simulation(scenario);
        simulation.Run();
        return simulation;
    }

    /// <summary>Feeds a recorded history to a fresh scheduler; restored runs are handed over in reverse order.</summary>
    public static List<string> Replay(Scenario scenario, IEnumerable<SchedulerInput?> trace)
    {
        var pipeline = scenario.Shape.Build();
        var options = Options(scenario);
        var scheduler = new Scheduler(pipeline, options);
        var log = new List<string>();
        foreach (var input in trace)
        {
            if (input is null)
            {
                scheduler = new Scheduler(pipeline, options, scheduler.Runs.Reverse().ToList());
            }
            else
            {
                log.Add(EffectText.Batch(scheduler.Handle(input)));
            }
        }

        return log;
    }

    private void Run()
    {
        var markers = Markers();
        var restartsLeft = Scenario.Restarts;
        Feed(new SchedulerStarted(Tick()));
        while (markers.Count + _inFlight.Count + _later.Count > 0)
        {
            if (restartsLeft > 0 && _random.Next(100) < 4)
            {
                restartsLeft--;
                Restart();
                continue;
            }

            var pick = _random.Next((3 * markers.Count) + (3 * _inFlight.Count) + _later.Count);
            if (pick < 3 * markers.Count)
            {
                var (key, body) = markers[pick / 3];
                markers.RemoveAt(pick / 3);
                Feed(new MarkerObserved(key, body, Tick()));
            }
            else if ((pick -= 3 * markers.Count) < 3 * _inFlight.Count)
            {
                Complete(pick / 3);
            }
            else
            {
                var (input, stale) = _later[pick - (3 * _inFlight.Count)];
                _later.RemoveAt(pick - (3 * _inFlight.Count));
                var effects = Feed(input(Tick()));
                Assert.True(!stale || !effects.Any(e => e is RunChanged or StartRun), "an exit of an attempt from before a restart had effects");
            }
        }
    }

    /// <summary>Every root marker of the scenario's days, some dropped, some duplicated, shuffled.</summary>
    private List<(RunKey Key, MarkerBody Body)> Markers()
    {
        var first = PipelineShape.FirstDay.AddDays(Scenario.DayBeforeStart ? -1 : 0);
        var last = PipelineShape.FirstDay.AddDays(Scenario.Days - 1);
        var markers = new List<(RunKey, MarkerBody)>();
        foreach (var job in _pipeline.Jobs.Where(j => j.IsRoot))
        {
            for (var day = first; day <= last; day = day.AddDays(1))
            {
                var partitions = job.Grain == Grain.Daily ? [Partition.Day(day)] : Partition.Day(day).Hours();
                foreach (var partition in partitions.Where(_ => _random.Next(100) >= 3))
                {
                    var key = new RunKey(job.Name, partition);
                    RootMarkers.Add(key);
                    markers.Add((key, Body(key)));
                    if (_random.Next(100) < 25)
                    {
                        markers.Add((key, Body(key)));
                    }
                }
            }
        }

        for (var i = markers.Count - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (markers[i], markers[j]) = (markers[j], markers[i]);
        }

        return markers;
    }

    private MarkerBody Body(RunKey key) =>
        _random.Next(2) == 0 ? MarkerBody.Empty : new MarkerBody { Params = Build.Map(("from", key.ToString())) };

    private void Complete(int index)
    {
        var a = _inFlight[index];
        _inFlight.RemoveAt(index);
        var body = Body(a.Key);
        switch (_random.Next(3))
        {
            case 0:
                Feed(new RunExited(a.Key, a.Generation, a.Attempt, 0, body, Tick()));
                break;
            case 1:
                Feed(new MarkerObserved(a.Key, body, Tick()));
                Feed(new RunExited(a.Key, a.Generation, a.Attempt, 0, body, Tick()));
                break;
            default:
                Feed(new RunExited(a.Key, a.Generation, a.Attempt, 0, body, Tick()));
                _later.Add((at => new MarkerObserved(a.Key, body, at), false));
                break;
        }
    }

    /// <summary>
    /// The process dies: attempts in flight are interrupted. Their processes may be lost, may still
    /// exit (an exit the new process must ignore), or may still write their marker.
    /// </summary>
    private void Restart()
    {
        RestartsDone++;
        foreach (var a in _inFlight)
        {
            _interruptions[a.Key] = _interruptions.GetValueOrDefault(a.Key) + 1;
            var exitCode = _random.Next(2);
            switch (_random.Next(3))
            {
                case 1:
                    _later.Add((at => new RunExited(a.Key, a.Generation, a.Attempt, exitCode, null, at), true));
                    break;
                case 2:
                    _later.Add((at => new MarkerObserved(a.Key, MarkerBody.Empty, at), false));
                    break;
            }
        }

        _inFlight.Clear();
        Trace.Add(null);
        _scheduler = new Scheduler(_pipeline, _options, _scheduler.Runs.ToList());
        Feed(new SchedulerStarted(Tick()));
    }

    private IReadOnlyList<SchedulerEffect> Feed(SchedulerInput input)
    {
        Trace.Add(input);
        var effects = _scheduler.Handle(input);
        Log.Add(EffectText.Batch(effects));
        Check(effects);
        return effects;
    }

    private void Check(IReadOnlyList<SchedulerEffect> effects)
    {
        var running = new HashSet<(RunKey, int, int)>();
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case RunChanged { Run: var run }:
                    if (run.IsDone)
                    {
                        _done.Add(run.Key);
                    }
                    else if (run.State == RunState.Running)
                    {
                        running.Add((run.Key, run.Generation, run.Attempt));
                    }

                    break;
                case StartRun { Activation: var a }:
                    Assert.True(running.Contains((a.Key, a.Generation, a.Attempt)), $"{a.Key} attempt {a.Attempt} started before its running change");
                    Assert.False(_pipeline[a.Key.Job].IsRoot, $"root {a.Key} started without a trigger");
                    foreach (var input in _pipeline.InputsOf(a.Key))
                    {
                        Assert.True(
                            _done.Contains(input.Key) || _pipeline.IsSatisfiedByStart(a.Key, input),
                            $"(a) {a.Key} started while its input {input.Key} was not done");
                    }

                    var starts = _starts[a.Key] = _starts.GetValueOrDefault(a.Key) + 1;
                    var allowed = 1 + _interruptions.GetValueOrDefault(a.Key);
                    Assert.True(starts <= allowed, $"(b) {a.Key} started {starts} times with {allowed - 1} interruptions");
                    Assert.Equal(1, a.Generation);
                    _inFlight.Add(a);
                    break;
            }
        }
    }

    private DateTimeOffset Tick() => _now = _now.AddSeconds(1);
}
