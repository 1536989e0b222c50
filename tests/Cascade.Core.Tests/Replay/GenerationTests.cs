using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Replay;

/// <summary>Generations are never reused: each replay of a key opens the next one, also after a restart.</summary>
public sealed class GenerationTests
{
    private const string Day = "20190312";

    private static Harness Settled()
    {
        var h = new Harness(External("src"), Job("a", "src"), Job("b", "a"));
        h.Marker("src", Day);
        h.Settle();
        return h;
    }

    private static Harness Restart(Harness before)
    {
        var after = new Harness(before.Scheduler.Pipeline, before.Options, before.Scheduler.Runs.ToList());
        after.Clock.SetUtcNow(before.Now.AddMinutes(1));
        after.Started();
        return after;
    }

    [Fact]
    public void Each_replay_of_the_same_run_opens_the_next_generation_and_supersedes_the_one_before()
    {
        var h = Settled();
        var superseded = new List<int>();

        for (var expected = 2; expected <= 5; expected++)
        {
            h.Clock.Advance(TimeSpan.FromMinutes(1));
            var effects = h.Replay("a", Day);
            superseded.AddRange(effects.OfType<SupersedeMarker>().Select(s => s.Generation));
            var start = Assert.Single(Harness.StartsIn(effects));
            Assert.Equal((expected, 1), (start.Generation, start.Attempt));
            Assert.Equal($"a__20190312__g{expected}a1", start.RunId);
            h.Settle();
            Assert.Equal((expected, RunState.Succeeded), (h.Run("a", Day).Generation, h.Run("a", Day).State));
        }

        Assert.Equal([1, 2, 3, 4], superseded);
    }

    [Fact]
    public void Replaying_a_run_that_has_not_run_again_yet_still_moves_it_to_a_new_generation()
    {
        var h = Settled();

        h.Replay("src", Day, downstream: true);
        var second = h.Replay("src", Day, downstream: true);

        Assert.Equal(3, h.Run("src", Day).Generation);

        // The runs below are already waiting for src's new marker: they follow it, no new generation needed.
        Assert.Equal((2, RunState.Waiting), (h.Run("a", Day).Generation, h.Run("a", Day).State));
        Assert.Contains(second, e => e is RunChanged { Run: { Generation: 2, State: RunState.Superseded } } c && c.Run.Key == Key("src", Day));
    }

    [Fact]
    public void A_restarted_scheduler_continues_the_generations_from_the_stored_runs()
    {
        var h = Settled();
        h.Replay("a", Day, downstream: true);
        h.Settle();
        Assert.Equal(2, h.Run("b", Day).Generation);

        var after = Restart(h);
        var effects = after.Replay("a", Day, downstream: true);

        Assert.Equal((3, 1), (Assert.Single(Harness.StartsIn(effects)).Generation, Assert.Single(Harness.StartsIn(effects)).Attempt));
        Assert.Equal([(Key("a", Day), 2), (Key("b", Day), 2)], effects.OfType<SupersedeMarker>().Select(s => (s.Key, s.Generation)));
        after.Settle();
        Assert.Equal((3, 3), (after.Run("a", Day).Generation, after.Run("b", Day).Generation));
    }

    [Fact]
    public void A_restart_in_the_middle_of_a_replay_finishes_that_generation_without_opening_another()
    {
        var h = Settled();
        h.Replay("a", Day, downstream: true);

        var after = Restart(h);
        Assert.Equal((2, 2), (after.Run("a", Day).Generation, after.Run("a", Day).Attempt));
        after.Settle();

        Assert.Equal((2, RunState.Succeeded), (after.Run("a", Day).Generation, after.Run("a", Day).State));
        Assert.Equal((2, RunState.Succeeded), (after.Run("b", Day).Generation, after.Run("b", Day).State));
        Assert.Equal(["b 20190312"], after.Starts.Where(s => s.Key.Job == "b").Names());
    }

    [Fact]
    public void A_first_replay_of_a_partition_that_never_ran_opens_generation_one()
    {
        var h = Settled();

        // Its input src 20190311 is not done: generation 1 waits for it (a replay is not a trigger).
        Assert.Empty(Harness.StartsIn(h.Replay("a", "20190311")));
        Assert.Equal((1, RunState.Waiting), (h.Run("a", "20190311").Generation, h.Run("a", "20190311").State));

        var start = Assert.Single(Harness.StartsIn(h.Marker("src", "20190311")));

        Assert.Equal(1, start.Generation);
        Assert.Equal("replay", h.Run("a", "20190311").Cause);
    }

    [Fact]
    public void An_exit_of_an_older_generations_attempt_never_completes_the_newer_one()
    {
        var h = Settled();
        h.Replay("a", Day);
        h.Settle();
        h.Replay("a", Day);
        Assert.Equal((3, RunState.Running), (h.Run("a", Day).Generation, h.Run("a", Day).State));

        // The same attempt number of generation 2 reports again (a duplicate delivery).
        var old = h.Handle(new SchedulerInput.RunExited(Key("a", Day), 2, 1, 0, null, h.Now));

        Assert.DoesNotContain(old, e => e is RunChanged or WriteMarker or StartRun);
        Assert.Equal(RunState.Running, h.Run("a", Day).State);
    }
}
