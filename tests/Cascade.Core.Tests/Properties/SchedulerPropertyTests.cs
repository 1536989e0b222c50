using Cascade.Core.Scheduling;
using CsCheck;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// Random pipelines, random marker orders with duplicates, random completion orders and random
/// restarts. The per-step invariants are asserted inside <see cref="Simulation"/>: (a) no run starts
/// before all its inputs are done or satisfied by start, (b) a run starts at most once, plus once
/// more per restart that interrupted it. Failures print the CsCheck seed and the scenario.
/// </summary>
public sealed class SchedulerPropertyTests
{
    private const int Iterations = 150;

    [Fact]
    public void Without_restarts_every_reachable_run_starts_exactly_once_after_its_inputs_and_succeeds()
    {
        Scenario.WithoutRestarts.Sample(scenario =>
        {
            var sim = Simulation.Play(scenario);

            AssertEverythingReachableSucceeded(sim);
            foreach (var run in sim.Scheduler.Runs.Where(r => r.IsDone && !sim.RootMarkers.Contains(r.Key)))
            {
                Assert.Equal(1, sim.Starts.GetValueOrDefault(run.Key));
                Assert.Equal(1, run.Attempt);
            }
        }, iter: Iterations, print: s => s.ToString());
    }

    [Fact]
    public void With_restarts_every_reachable_run_still_succeeds_and_starts_again_only_after_an_interruption()
    {
        Scenario.WithRestarts.Sample(scenario =>
        {
            var sim = Simulation.Play(scenario);

            AssertEverythingReachableSucceeded(sim);
            foreach (var run in sim.Scheduler.Runs.Where(r => r.IsDone && !sim.RootMarkers.Contains(r.Key)))
            {
                Assert.True(sim.Starts.GetValueOrDefault(run.Key) >= 1, $"{run.Key} succeeded without ever being started");
            }
        }, iter: Iterations, print: s => s.ToString());
    }

    [Fact]
    public void Restarts_are_actually_exercised_by_the_generator()
    {
        var scenarios = FixedSample.Of(Scenario.WithRestarts, 200);
        var restarted = scenarios.Count(s => Simulation.Play(s).RestartsDone > 0);

        Assert.True(restarted > 40, $"only {restarted} of {scenarios.Count} scenarios restarted the scheduler");
    }

    [Fact]
    public void The_same_inputs_give_the_same_effects()
    {
        Scenario.WithRestarts.Sample(scenario =>
        {
            var sim = Simulation.Play(scenario);

            var replayed = Simulation.Replay(scenario, sim.Trace);

            Assert.Equal(sim.Log.Count, replayed.Count);
            for (var i = 0; i < replayed.Count; i++)
            {
                Assert.True(sim.Log[i] == replayed[i], $"batch {i} differs:\n{sim.Log[i]}\n---\n{replayed[i]}");
            }
        }, iter: 60, print: s => s.ToString());
    }

    private static void AssertEverythingReachableSucceeded(Simulation sim)
    {
        var expected = Oracle.Done(sim.Scheduler.Pipeline, sim.RootMarkers);
        var scheduler = sim.Scheduler;

        foreach (var key in expected)
        {
            var state = scheduler.Get(key)?.State;
            Assert.True(state == RunState.Succeeded, $"(c) {key} should have succeeded but is {state?.ToString() ?? "missing"}");
        }

        foreach (var run in scheduler.Runs)
        {
            Assert.True(!run.IsDone || expected.Contains(run.Key), $"{run.Key} succeeded but was not reachable");
            Assert.True(run.State is RunState.Succeeded or RunState.Waiting, $"{run.Key} ended {run.State}");
            Assert.Equal(sim.Starts.GetValueOrDefault(run.Key), run.Attempt);
            if (run.State == RunState.Waiting)
            {
                Assert.Contains(
                    scheduler.Pipeline.InputsOf(run.Key),
                    i => !scheduler.IsDone(i.Key) && !scheduler.Pipeline.IsSatisfiedByStart(run.Key, i));
            }
        }

        Assert.True(scheduler.IsIdle);
        Assert.Null(scheduler.NextWakeAt);
    }
}
