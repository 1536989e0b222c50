using Cascade.Engine.Alerts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>The dispatcher's documented defaults and its life cycle (drain, dispose).</summary>
public sealed class AlertDispatcherLifecycleTests
{
    [Fact]
    public void The_default_delivery_options_are_the_documented_10_s_timeout_and_3_retries_starting_at_1_s()
    {
        var options = new AlertDeliveryOptions();

        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(3, options.Retries);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FirstRetryDelay);
    }

    [Fact]
    public async Task BUG_draining_then_disposing_a_dispatcher_twice_is_harmless()
    {
        // BUG: AlertDispatcher.DisposeAsync disposes its CancellationTokenSource, and a second call runs
        // _stop.CancelAsync() on it again and throws ObjectDisposedException (IAsyncDisposable must be idempotent).
        await using var receiver = HttpReceiver.Start();
        using var http = new HttpClient();
        var sink = new Cascade.Engine.Alerts.Webhook.WebhookAlertSink(http, new Uri($"{receiver.BaseUrl}/hook"), "demo");
        var dispatcher = new AlertDispatcher([sink], AlertedScheduler.FastDelivery, TimeProvider.System, NullLogger.Instance);

        await dispatcher.DrainAsync(TimeSpan.FromSeconds(1), TimeProvider.System).WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
        var first = await Record.ExceptionAsync(async () => await dispatcher.DisposeAsync());
        var second = await Record.ExceptionAsync(async () => await dispatcher.DisposeAsync());

        Assert.Null(first);
        Assert.True(second is null, $"BUG: a second DisposeAsync threw {second?.GetType().Name}: {second?.Message}");
        Assert.Equal(0, dispatcher.Sent + dispatcher.Failed);
        Assert.Empty(receiver.Requests);
    }
}
