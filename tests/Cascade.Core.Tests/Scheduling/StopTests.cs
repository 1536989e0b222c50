using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>A graceful stop: start nothing more, but keep recording what attempts in flight report.</summary>
public sealed class StopTests
{
    [Fact]
    public void After_a_stop_is_requested_nothing_more_starts()
    {
        var h = new Harness(Job("a"), Job("b", "a"), Job("c", "b"));
        h.Handle(new StopRequested(h.Now));

        var effects = h.Marker("a", "20190312");

        Assert.Empty(Harness.StartsIn(effects));
        Assert.Equal(RunState.Queued, h.Run("b", "20190312").State);
    }

    [Fact]
    public void After_a_stop_an_attempt_in_flight_still_succeeds_but_its_downstream_stays_queued()
    {
        var h = new Harness(Job("a"), Job("b", "a"), Job("c", "b"));
        h.Marker("a", "20190312");
        h.Handle(new StopRequested(h.Now));

        var effects = h.Exit("b", "20190312", 0);

        Assert.Equal(RunState.Succeeded, h.Run("b", "20190312").State);
        Assert.Empty(Harness.StartsIn(effects));
        Assert.Equal(RunState.Queued, h.Run("c", "20190312").State);
        Assert.Equal(0, h.Scheduler.RunningCount);
    }
}
