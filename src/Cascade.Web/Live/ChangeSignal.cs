using Cascade.Engine.Runtime;

namespace Cascade.Web.Live;

/// <summary>
/// Wakes live streams when a change is committed: at once when the scheduler runs in this process
/// (its <see cref="SchedulerService.RunChanged"/>, raised after the commit), and by a poll of the
/// state otherwise. The streams read what changed from the state itself, so a wake carries nothing
/// and none can be lost: a missed wake only waits for the next one.
/// </summary>
internal sealed class ChangeSignal : IDisposable
{
    private readonly SchedulerService? _scheduler;
    private TaskCompletionSource _next = NewSource();

    public ChangeSignal(SchedulerService? scheduler)
    {
        _scheduler = scheduler;
        if (scheduler is not null)
        {
            scheduler.RunChanged += OnChanged;
        }
    }

    /// <summary>Completes at the next change (or never, for <c>serve</c>: streams also poll).</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    private void OnChanged(Core.Scheduling.SchedulerEffect.RunChanged change) => Pulse();

    public void Pulse() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        if (_scheduler is not null)
        {
            _scheduler.RunChanged -= OnChanged;
        }

        Pulse();
    }
}
