using Cascade.Engine.Runtime;

namespace Cascade.Engine.Tests.Engine;

/// <summary>When a body that does not parse is read again, and when it is judged: explicit times, no clock.</summary>
public sealed class SettlingMarkersTests
{
    private static readonly DateTimeOffset T0 = new(2019, 3, 12, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_fresh_body_is_read_again_and_judged_once_it_has_not_changed_for_the_quiet_period()
    {
        var s = new SettlingMarkers();
        Assert.True(s.ShouldRecheck("a.done", T0, T0, out var pending));
        Assert.False(pending);
        Assert.Equal(1, s.Count);

        s.RecheckArrived("a.done");
        Assert.True(s.ShouldRecheck("a.done", T0, T0 + SettlingMarkers.QuietPeriod / 2, out pending));
        Assert.False(pending);

        Assert.False(s.ShouldRecheck("a.done", T0, T0 + SettlingMarkers.QuietPeriod, out _));
        Assert.Equal(0, s.Count);
    }

    [Fact]
    public void A_body_that_keeps_changing_is_judged_at_the_bound()
    {
        var s = new SettlingMarkers();
        var step = SettlingMarkers.QuietPeriod / 2;
        var now = T0;
        Assert.True(s.ShouldRecheck("a.done", now, now, out _));
        while (now - T0 < SettlingMarkers.Bound - step)
        {
            now += step;
            s.RecheckArrived("a.done");
            Assert.True(s.ShouldRecheck("a.done", now, now, out _), $"judged at {(now - T0).TotalSeconds} s although it changed {step.TotalMilliseconds} ms ago");
        }

        now += step;
        Assert.False(s.ShouldRecheck("a.done", now, now, out _));
    }

    [Fact]
    public void An_old_body_is_judged_at_once_and_a_second_notice_does_not_post_a_second_recheck()
    {
        var s = new SettlingMarkers();
        Assert.False(s.ShouldRecheck("old.done", T0 - SettlingMarkers.QuietPeriod, T0, out _));
        Assert.Equal(0, s.Count);

        Assert.True(s.ShouldRecheck("new.done", T0, T0, out _));
        Assert.True(s.ShouldRecheck("new.done", T0, T0 + TimeSpan.FromMilliseconds(10), out var pending));
        Assert.True(pending);
        s.Forget("new.done");
        Assert.Equal(0, s.Count);
    }
}
