using Cascade.Core.Markers;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Scheduling.SchedulerInput;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>
/// Remote (run.http) runs in the core: activated like commands (placeholders checked first), done
/// by their marker while the attempt is in flight, and failed with a reason by <see cref="RunFailed"/>.
/// </summary>
public sealed class RemoteRunTests
{
    private static JobDefinition Remote(string name, string url, params string[] after) =>
        Job(name, after) with
        {
            Retries = 1,
            RetryBackoff = TimeSpan.FromSeconds(30),
            Run = new RunSpec.Http(new HttpActivation { Url = url, Body = new BodyTemplate.Members([new("d", new BodyTemplate.Text("{date}"))]) }),
        };

    [Fact]
    public void A_remote_run_starts_when_its_inputs_are_done_and_its_marker_ends_it_while_the_attempt_is_in_flight()
    {
        var h = new Harness(Job("a"), Remote("r", "https://x/{job}", "a"), Job("c", "r"));

        var start = Assert.Single(Harness.StartsIn(h.Marker("a", "20190312")));
        Assert.Equal(Key("r", "20190312"), start.Key);
        Assert.Empty(start.Argv);
        Assert.Equal("1", start.Values["attempt"]);

        var effects = h.Marker("r", "20190312", MarkerBody.Parse("""{"rows": 1}"""));
        Assert.Equal(RunState.Succeeded, h.Run("r", "20190312").State);
        Assert.Equal([Key("c", "20190312")], Harness.StartsIn(effects).Select(a => a.Key));

        // The attempt then ends as exit 0: nothing more happens, no marker is written over the remote one.
        var exit = h.Exit("r", "20190312", 0);
        Assert.DoesNotContain(exit, e => e is SchedulerEffect.WriteMarker);
        Assert.Equal(RunState.Succeeded, h.Run("r", "20190312").State);
    }

    [Fact]
    public void A_remote_run_with_a_placeholder_without_value_fails_at_once_naming_it()
    {
        var h = new Harness(Job("a"), Remote("r", "https://x/{params.missing}", "a"));

        Assert.Empty(Harness.StartsIn(h.Marker("a", "20190312")));

        var run = h.Run("r", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal("no value for {params.missing} in run.http (activation error, not retried)", run.Reason);
    }

    [Fact]
    public void An_environment_reference_is_not_a_placeholder_of_the_core()
    {
        var h = new Harness(Job("a"), Remote("r", "${BASE}/run/{job}", "a"));

        Assert.Single(Harness.StartsIn(h.Marker("a", "20190312")));
    }

    [Fact]
    public void A_failure_with_a_reason_is_retried_or_not_as_the_executor_says()
    {
        var h = new Harness(Job("a"), Remote("r", "https://x/", "a"), Job("c", "r"));
        h.Marker("a", "20190312");

        var first = h.Run("r", "20190312");
        h.Handle(new RunFailed(first.Key, first.Generation, first.Attempt, "no marker within run_timeout 3h after the activation", Retry: true, h.Now));
        var queued = h.Run("r", "20190312");
        Assert.Equal(RunState.Queued, queued.State);
        Assert.Equal("no marker within run_timeout 3h after the activation", queued.Reason);

        var retried = Assert.Single(Harness.StartsIn(h.Advance(TimeSpan.FromSeconds(30))));
        var effects = h.Handle(new RunFailed(retried.Key, retried.Generation, retried.Attempt, "POST https://x/… answered 400 Bad Request: no", Retry: false, h.Now));

        var failed = h.Run("r", "20190312");
        Assert.Equal(RunState.Failed, failed.State);
        Assert.Equal("POST https://x/… answered 400 Bad Request: no (not retried)", failed.Reason);
        Assert.Equal(RunState.UpstreamFailed, h.Run("c", "20190312").State);
        Assert.Contains(effects, e => e is SchedulerEffect.SendAlert);
    }

    [Fact]
    public void A_stale_failure_of_an_older_attempt_changes_nothing()
    {
        var h = new Harness(Job("a"), Remote("r", "https://x/", "a"));
        h.Marker("a", "20190312");
        var run = h.Run("r", "20190312");

        Harness.AssertNothingHappened(h.Handle(new RunFailed(run.Key, run.Generation, run.Attempt + 1, "late", Retry: true, h.Now)));

        Assert.Equal(RunState.Running, h.Run("r", "20190312").State);
    }
}
