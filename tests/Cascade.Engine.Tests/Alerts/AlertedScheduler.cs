using System.Collections.Concurrent;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>
/// A real <see cref="SchedulerService"/> over a <see cref="TempPipeline"/> (real folder, SQLite file,
/// processes), wired like <c>cascade run</c>: sinks from <see cref="AlertSinks.Create"/> with a real
/// HttpClient, delivered by a real <see cref="AlertDispatcher"/>.
/// </summary>
internal sealed class AlertedScheduler : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly IStateStore _store;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Alert> _firstAlert = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<Alert> _raised = new();
    private Task _run = Task.CompletedTask;
    private bool _disposed;

    private AlertedScheduler(HttpClient http, IStateStore store, SchedulerService service, AlertDispatcher dispatcher)
    {
        _http = http;
        _store = store;
        Service = service;
        Dispatcher = dispatcher;
        Service.AlertRaised += alert =>
        {
            _raised.Enqueue(alert);
            _firstAlert.TrySetResult(alert);
        };
    }

    public SchedulerService Service { get; }

    public AlertDispatcher Dispatcher { get; }

    /// <summary>Alerts the scheduler raised (handed to the dispatcher), in order.</summary>
    public IReadOnlyList<Alert> Raised => [.. _raised];

    /// <summary>Small, fast delivery settings for tests.</summary>
    public static AlertDeliveryOptions FastDelivery { get; } = new()
    {
        Retries = 2,
        FirstRetryDelay = TimeSpan.FromMilliseconds(20),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        QueueCapacity = 16,
    };

    /// <summary>Builds the sinks, the dispatcher and the scheduler; returns once the scheduler is ready.</summary>
    public static async Task<AlertedScheduler> StartAsync(
        TempPipeline pipeline,
        AlertDeliveryOptions? delivery = null,
        Func<string, string?>? environment = null,
        ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var sinks = AlertSinks.Create(pipeline.Pipeline, http, environment ?? (_ => null));
        var dispatcher = new AlertDispatcher(sinks, delivery ?? FastDelivery, TimeProvider.System, logger);
        var store = await pipeline.OpenStoreAsync();
        var options = new EngineOptions { LogDirectory = pipeline.LogDirectory, MaxParallel = 8, ShutdownGrace = TimeSpan.FromSeconds(10) };
        var service = new SchedulerService(pipeline.Pipeline, options, store, pipeline.Markers, CommandExecutors.Create(pipeline.Dir, null, Environment.GetEnvironmentVariable), TimeProvider.System, logger, dispatcher);
        var scheduler = new AlertedScheduler(http, store, service, dispatcher);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Ready += () => ready.TrySetResult();
        var stop = scheduler._stop.Token;
        scheduler._run = Task.Run(async () =>
        {
            try
            {
                await service.RunAsync(stop);
            }
            finally
            {
                ready.TrySetResult();
            }
        });
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        if (scheduler._run.IsFaulted)
        {
            await scheduler._run;
        }

        return scheduler;
    }

    /// <summary>The first alert the scheduler raised; fails the test if none comes within <paramref name="bound"/>.</summary>
    public async Task<Alert> FirstAlertAsync(TimeSpan bound)
    {
        try
        {
            return await _firstAlert.Task.WaitAsync(bound, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the scheduler raised no alert within {bound.TotalSeconds:0.#}s");
            throw;
        }
    }

    /// <summary>Stops the scheduler loop; fails the test if it does not end within <paramref name="bound"/>.</summary>
    public async Task StopAsync(TimeSpan bound)
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(bound, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the scheduler did not stop within {bound.TotalSeconds:0.#}s");
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        await Dispatcher.DisposeAsync();
        await _store.DisposeAsync();
        Service.Dispose();
        _http.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Keeps every formatted log message (and exception text) written through it.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
            : string.Empty;
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)} | {structured} | {exception}");
    }
}
