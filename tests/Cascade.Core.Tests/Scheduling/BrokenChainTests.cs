using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>SPEC §4: <c>failed</c> (retries exhausted, or an activation error) breaks the chain below it and alerts once.</summary>
public sealed class BrokenChainTests
{
    private static Harness Chain(RunSpec? bRun = null)
    {
        var b = Job("b", "a");
        return new Harness(Job("a"), bRun is null ? b : b with { Run = bRun }, Job("c", "b"), Job("d", "c"));
    }

    [Fact]
    public void A_failed_run_marks_every_run_below_it_upstream_failed_and_alerts_once()
    {
        var h = Chain();
        h.Marker("a", "20190312");

        var effects = h.Exit("b", "20190312", 7);

        Assert.Equal(RunState.Failed, h.Run("b", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("c", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("d", "20190312").State);
        var alert = Assert.Single(effects.OfType<SendAlert>()).Alert;
        Assert.Equal(AlertKind.Failed, alert.Kind);
        Assert.Equal(Key("b", "20190312"), alert.Key);
        Assert.Equal(7, alert.ExitCode);
        Assert.Equal(["c", "d"], alert.BrokenDownstream);
        Assert.Equal("cascade why b 20190312", alert.WhyCommand);
    }

    [Fact]
    public void An_activation_error_breaks_the_chain_too()
    {
        var h = Chain(new RunSpec.Command(["./b.sh", "{params.nope}"]));

        var effects = h.Marker("a", "20190312");

        Assert.Equal(RunState.Failed, h.Run("b", "20190312").State);
        Assert.Equal(RunState.UpstreamFailed, h.Run("c", "20190312").State);
        Assert.Single(effects.OfType<SendAlert>());
    }

    [Fact]
    public void A_late_marker_of_a_failed_run_is_recorded_and_the_run_stays_failed()
    {
        var h = Chain();
        h.Marker("a", "20190312");
        h.Exit("b", "20190312", 1);

        var effects = h.Marker("b", "20190312");

        Assert.Empty(Harness.StartsIn(effects));
        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains(run.Warnings, w => w.StartsWith("late marker", StringComparison.Ordinal));
        Assert.Equal(RunState.UpstreamFailed, h.Run("c", "20190312").State);
    }

    [Fact]
    public void Triggering_a_failed_run_mends_the_chain_below_it()
    {
        var h = Chain();
        h.Marker("a", "20190312");
        h.Exit("b", "20190312", 1);

        Assert.Single(Harness.StartsIn(h.Trigger("b", "20190312")));
        Assert.Equal(RunState.Waiting, h.Run("c", "20190312").State);
        Assert.Equal(RunState.Waiting, h.Run("d", "20190312").State);

        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(h.Exit("b", "20190312", 0)).Select(a => a.Key));
        Assert.Equal([Key("d", "20190312")], Harness.StartsIn(h.Exit("c", "20190312", 0)).Select(a => a.Key));
    }

    [Fact]
    public void A_run_whose_input_is_broken_never_starts_even_when_its_other_inputs_arrive()
    {
        var h = new Harness(Job("a"), Job("b", "a"), Job("x"), Job("c", "b", "x"));
        h.Marker("a", "20190312");
        h.Exit("b", "20190312", 1);

        var effects = h.Marker("x", "20190312");

        Assert.Empty(Harness.StartsIn(effects));
        Assert.Equal(RunState.UpstreamFailed, h.Run("c", "20190312").State);
    }
}
