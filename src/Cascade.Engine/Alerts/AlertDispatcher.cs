using System.Threading.Channels;
using Cascade.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Cascade.Engine.Alerts;

/// <summary>
/// Sends alerts in the background: the scheduler only enqueues (never waits, never fails). Each
/// delivery gets a per-attempt timeout and retries with exponential backoff (Polly). When the
/// queue is full the oldest alert is dropped with a warning. Destinations are logged redacted.
/// </summary>
public sealed class AlertDispatcher : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly Channel<Alert>[] _queues;
    // Built at the first delivery: Polly validates its options by reflection, which cost a Native AOT
    // `cascade run` about a fifth of its start-up for the many runs that never send an alert.
    private readonly Lazy<ResiliencePipeline> _resilience;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;
    private long _sent;
    private long _failed;

    private readonly Runtime.SchedulerMetrics? _metrics;

    public AlertDispatcher(IReadOnlyList<IAlertSink> sinks, AlertDeliveryOptions options, TimeProvider time, ILogger logger, Runtime.SchedulerMetrics? metrics = null)
    {
        _metrics = metrics;
        _logger = logger;
        // One queue per destination: a receiver that is down delays only its own alerts.
        _queues = sinks.Select(_ => Channel.CreateBounded<Alert>(new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped => logger.LogWarning("alert queue full; dropped the alert for {Job} {Partition}", dropped.Key.Job, dropped.Key.Partition.Key))).ToArray();
        _resilience = new Lazy<ResiliencePipeline>(() => BuildResilience(options, time));
        _loop = Task.WhenAll(sinks.Select((sink, i) => Task.Run(() => LoopAsync(sink, _queues[i]))));
    }

    private static ResiliencePipeline BuildResilience(AlertDeliveryOptions options, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.Retries,
                Delay = options.FirstRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>(),
            });
        }

        return builder.AddTimeout(options.AttemptTimeout).Build();
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Queues an alert for every sink; returns at once.</summary>
    public void Enqueue(Alert alert)
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryWrite(alert);
        }
    }

    private async Task LoopAsync(IAlertSink sink, Channel<Alert> queue)
    {
        try
        {
            await foreach (var alert in queue.Reader.ReadAllAsync(_stop.Token))
            {
                await DeliverAsync(sink, alert);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task DeliverAsync(IAlertSink sink, Alert alert)
    {
        try
        {
            await _resilience.Value.ExecuteAsync(ct => sink.SendAsync(alert, ct), _stop.Token);
            Interlocked.Increment(ref _sent);
            _metrics?.AlertDelivered(alert.Key.Job);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopping: undelivered alerts are given up
        }
#pragma warning disable CA1031 // a failed delivery is logged and counted; it must never reach the scheduler
        catch (Exception e)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _failed);
            _metrics?.AlertFailed(alert.Key.Job);
            _logger.LogWarning("alert for {Job} {Partition} to {Sink} not delivered: {Error}", alert.Key.Job, alert.Key.Partition.Key, sink.Describe, Redacted(e));
        }
    }

    // Exception messages of HttpClient may contain the request URI (and so a secret): keep the type and status only.
    private static string Redacted(Exception e) => e switch
    {
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status}",
        HttpRequestException h => $"connection failed ({h.HttpRequestError})",
        TimeoutRejectedException => "timed out",
        _ => e.GetType().Name,
    };

    /// <summary>Gives queued alerts up to <paramref name="grace"/> to go out, then stops.</summary>
    public async Task DrainAsync(TimeSpan grace, TimeProvider time)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        var finished = await Task.WhenAny(_loop, Task.Delay(grace, time));
        if (finished != _loop)
        {
            await _stop.CancelAsync();
        }

        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
