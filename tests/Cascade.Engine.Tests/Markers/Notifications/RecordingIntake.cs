using Cascade.Engine.Markers.Notifications;

namespace Cascade.Engine.Tests.Markers.Notifications;

/// <summary>
/// A small real <see cref="INotificationIntake"/> for the consumer's tests, standing in for the other
/// half of the notification path: it records every body it is handed, in order, and answers as told —
/// accepted, a refusal, or a transient failure (it throws, as the real one does when the state store
/// is busy). It can hold a call open until released, to see what the consumer does meanwhile.
/// </summary>
internal sealed class RecordingIntake : INotificationIntake
{
    private readonly Lock _gate = new();
    private readonly List<(string Body, NotificationChannel Channel, string Outcome)> _calls = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failNext;

    /// <summary>Refuses bodies it answers yes for (by default none).</summary>
    public Func<string, string?> Refuse { get; set; } = _ => null;

    /// <summary>When set, each call waits for it (and says so by <see cref="Entered"/>) before answering.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Completes when a call is waiting on <see cref="Hold"/>.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Every call: the body, the channel and what was answered (<c>accepted</c>, <c>refused</c>, <c>failed</c>).</summary>
    public IReadOnlyList<(string Body, NotificationChannel Channel, string Outcome)> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyList<string> Accepted => [.. Calls.Where(c => c.Outcome == "accepted").Select(c => c.Body)];

    /// <summary>The next <paramref name="count"/> calls throw a transient failure.</summary>
    public void FailNext(int count)
    {
        lock (_gate)
        {
            _failNext = count;
        }
    }

    public async ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, bool senderAuthenticated, CancellationToken cancellationToken)
    {
        if (Hold is { } hold)
        {
            Entered.TrySetResult();
            await hold.Task.WaitAsync(cancellationToken);
        }

        bool fail;
        lock (_gate)
        {
            fail = _failNext > 0;
            _failNext = Math.Max(0, _failNext - 1);
        }

        var refusal = fail ? null : Refuse(body);
        Record(body, channel, fail ? "failed" : refusal is null ? "accepted" : "refused");
        if (fail)
        {
            throw new IOException("the state store is busy (database is locked)");
        }

        return refusal is null ? new IntakeResult(1, 0, 0) : new IntakeResult(0, 0, 0, refusal);
    }

    /// <summary>Completes once at least <paramref name="count"/> calls were answered; fails the test after 20 s.</summary>
    public async Task WaitForCallsAsync(int count)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_calls.Count >= count)
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the intake got {Calls.Count} call(s), expected {count}");
            }
        }
    }

    private void Record(string body, NotificationChannel channel, string outcome)
    {
        lock (_gate)
        {
            _calls.Add((body, channel, outcome));
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
