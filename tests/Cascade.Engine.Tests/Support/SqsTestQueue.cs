namespace Cascade.Engine.Tests.Support;

/// <summary>One message of <see cref="SqsTestQueue"/>, as the queue keeps it.</summary>
internal sealed class SqsTestMessage(string id, string body)
{
    public string Id { get; } = id;

    public string Body { get; } = body;

    /// <summary>The handle of the latest receive; only it deletes the message (as on AWS).</summary>
    public string? ReceiptHandle { get; set; }

    public DateTimeOffset VisibleAt { get; set; } = DateTimeOffset.MinValue;

    public int ReceiveCount { get; set; }

    public bool Deleted { get; set; }
}

/// <summary>
/// The state of one queue behind <see cref="SqsTestServer"/>, kept when the server stops and starts
/// again: messages in send order, SQS's visibility timeout judged on the test's clock (a received,
/// undeleted message is handed out again once its timeout passes), receipt handles (only the latest
/// deletes), and a record of every receive and delete for the test's assertions.
/// </summary>
internal sealed class SqsTestQueue(TimeProvider time, TimeSpan defaultVisibility)
{
    private readonly Lock _gate = new();
    private readonly List<SqsTestMessage> _messages = [];
    private readonly List<(string Id, int ReceiveCount)> _deliveries = [];
    private readonly List<string> _deleted = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next;

    public TimeProvider Time => time;

    /// <summary>Every message handed out, in order, with its receive count at the time.</summary>
    public IReadOnlyList<(string Id, int ReceiveCount)> Deliveries
    {
        get
        {
            lock (_gate)
            {
                return [.. _deliveries];
            }
        }
    }

    /// <summary>The ids of the deleted messages, in the order they were deleted.</summary>
    public IReadOnlyList<string> Deleted
    {
        get
        {
            lock (_gate)
            {
                return [.. _deleted];
            }
        }
    }

    /// <summary>Messages neither deleted nor in flight.</summary>
    public int Visible
    {
        get
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                return _messages.Count(m => !m.Deleted && m.VisibleAt <= now);
            }
        }
    }

    /// <summary>How many ReceiveMessage calls are being held (a long poll waiting for a message).</summary>
    public int Held => Volatile.Read(ref _held);

    private int _held;

    /// <summary>Completes at the next change of the queue (a send, receive, delete, or a poll being held).</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    public string Send(string body)
    {
        lock (_gate)
        {
            var id = $"m{++_next:D4}-{Guid.NewGuid():N}"[..20];
            _messages.Add(new SqsTestMessage(id, body));
            Signal();
            return id;
        }
    }

    /// <summary>Up to <paramref name="max"/> visible messages, made invisible for the visibility timeout; waits up to <paramref name="wait"/> (on the test's clock) for one.</summary>
    public async Task<List<(SqsTestMessage Message, string ReceiptHandle)>> ReceiveAsync(int max, TimeSpan wait, TimeSpan? visibility, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + wait;
        var holding = false;
        try
        {
            while (true)
            {
                Task changed;
                Task timer;
                CancellationTokenSource wake;
                lock (_gate)
                {
                    var now = time.GetUtcNow();
                    var taken = new List<(SqsTestMessage, string)>();
                    foreach (var m in _messages.Where(m => !m.Deleted && m.VisibleAt <= now).Take(max))
                    {
                        m.ReceiveCount++;
                        m.VisibleAt = now + (visibility ?? defaultVisibility);
                        m.ReceiptHandle = $"{m.Id}/{m.ReceiveCount}/{Guid.NewGuid():N}";
                        _deliveries.Add((m.Id, m.ReceiveCount));
                        taken.Add((m, m.ReceiptHandle));
                    }

                    if (taken.Count > 0 || now >= until)
                    {
                        if (taken.Count > 0)
                        {
                            Signal();
                        }

                        return taken;
                    }

                    // Wake at the end of the poll or when the first message in flight becomes visible again.
                    // The timer is set before the poll is reported held, so a test that sees it held and
                    // then advances the clock always moves this timer.
                    var next = _messages.Where(m => !m.Deleted && m.VisibleAt > now).Select(m => m.VisibleAt).DefaultIfEmpty(until).Min();
                    wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timer = Task.Delay((next < until ? next : until) - now, time, wake.Token);
                    if (!holding)
                    {
                        holding = true;
                        Interlocked.Increment(ref _held);
                        Signal();
                    }

                    changed = _changed.Task;
                }

                using (wake)
                {
                    await Task.WhenAny(changed, timer);
                    await wake.CancelAsync();
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            if (holding)
            {
                Interlocked.Decrement(ref _held);
                lock (_gate)
                {
                    Signal();
                }
            }
        }
    }

    /// <summary>Null when deleted; else why not (the handle is not the latest, or the message is gone).</summary>
    public string? Delete(string receiptHandle)
    {
        lock (_gate)
        {
            var m = _messages.FirstOrDefault(m => m.ReceiptHandle == receiptHandle);
            if (m is null)
            {
                return "ReceiptHandleIsInvalid";
            }

            if (!m.Deleted)
            {
                m.Deleted = true;
                _deleted.Add(m.Id);
                Signal();
            }

            return null;
        }
    }

    /// <summary>Completes once <paramref name="condition"/> holds, looking again at every change; fails the test after <paramref name="bound"/>.</summary>
    public async Task WaitUntilAsync(Func<SqsTestQueue, bool> condition, string what, TimeSpan? bound = null)
    {
        using var limit = new CancellationTokenSource(bound ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var changed = Changed; // taken before looking, so no change slips in between
            if (condition(this))
            {
                return;
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the queue never got to: {what} (deliveries: {string.Join(", ", Deliveries.Select(d => $"{d.Id}#{d.ReceiveCount}"))}; deleted: {string.Join(", ", Deleted)})");
            }
        }
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
