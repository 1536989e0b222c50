using System.Diagnostics;
using Cascade.Core.Scheduling;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Integration;

/// <summary>
/// Real socket, real SQLite file, real processes: a request the CLI leaves rings the scheduler's
/// lock socket, and the scheduler takes it at once instead of at its next inbox poll (ADR 11).
/// </summary>
public sealed class RequestWakeTests
{
    private const string Yaml = """
        jobs:
          load:
            run: { command: [sh, jobs/record.sh] }
        """;

    private static readonly TimeSpan NoPoll = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_trigger_reaches_a_running_scheduler_at_once_when_the_CLI_rings_even_with_the_poll_an_hour_away()
    {
        RequireLinux();
        await using var p = TempPipeline.Create(Yaml, ("jobs/record.sh", Scripts.Record));
        using var held = SchedulerLock.Acquire(p.StatePath);
        await p.StartAsync(o => o with { InboxInterval = NoPoll }, doorbell: held);

        // The trigger command's steps: commit the request row, then ring.
        await EnqueueTriggerAsync(p, "20190312");
        var clock = Stopwatch.StartNew();
        SchedulerLock.Ring(p.StatePath);
        await p.WaitForStateAsync("load", "20190312", RunState.Succeeded, seconds: 5);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"taken after {clock.Elapsed.TotalMilliseconds:0} ms");

        // And again: the doorbell keeps working after the first ring.
        await EnqueueTriggerAsync(p, "20190313");
        SchedulerLock.Ring(p.StatePath);
        await p.WaitForStateAsync("load", "20190313", RunState.Succeeded, seconds: 5);
    }

    [Fact]
    public async Task Ringing_the_doorbell_never_takes_the_lock_nor_hides_it()
    {
        RequireLinux();
        await using var p = TempPipeline.Create(Yaml, ("jobs/record.sh", Scripts.Record));
        var held = SchedulerLock.Acquire(p.StatePath);
        await p.StartAsync(o => o with { InboxInterval = NoPoll }, doorbell: held);
        for (var i = 0; i < 200; i++)
        {
            SchedulerLock.Ring(p.StatePath); // far more than the backlog: never blocks, never throws
        }

        Assert.True(SchedulerLock.IsHeld(p.StatePath));
        var second = Assert.Throws<StateStoreException>(() => SchedulerLock.Acquire(p.StatePath));
        Assert.Contains("another `cascade run` is using", second.Message, StringComparison.Ordinal);

        // The probes and rings above did not stop the doorbell from working.
        await EnqueueTriggerAsync(p, "20190312");
        SchedulerLock.Ring(p.StatePath);
        await p.WaitForStateAsync("load", "20190312", RunState.Succeeded, seconds: 5);
        Assert.True(SchedulerLock.IsHeld(p.StatePath));

        held.Dispose();
        Assert.False(SchedulerLock.IsHeld(p.StatePath));
        using var next = SchedulerLock.Acquire(p.StatePath); // free again once the holder let go
    }

    [Fact]
    public async Task Asking_whether_the_lock_is_held_never_hangs_when_its_holder_accepts_no_connection()
    {
        RequireLinux();
        await using var p = TempPipeline.Create(Yaml, ("jobs/record.sh", Scripts.Record));
        using var held = SchedulerLock.Acquire(p.StatePath); // no accept loop: every probe stays in the backlog

        // `logs --follow` asks every 200 ms; a blocking connect waited forever once the backlog was full.
        var answers = await Task.Run(() => Enumerable.Range(0, 200).Select(_ => SchedulerLock.IsHeld(p.StatePath)).ToList()).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(answers, Assert.True);
        SchedulerLock.Ring(p.StatePath); // and ringing a full backlog returns at once
    }

    [Fact]
    public void Ringing_with_no_scheduler_does_nothing_and_does_not_wait()
    {
        var state = Path.Combine(Path.GetTempPath(), "cascade-nobody-" + Guid.NewGuid().ToString("N"), "state.db");
        var clock = Stopwatch.StartNew();
        SchedulerLock.Ring(state);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"ringing took {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.False(SchedulerLock.IsHeld(state));
        Assert.False(Directory.Exists(Path.GetDirectoryName(state)));
    }

    private static async Task EnqueueTriggerAsync(TempPipeline p, string partition)
    {
        await using var store = await p.OpenStoreAsync();
        await store.EnqueueRequestAsync(new Request(Request.Trigger, TempPipeline.Key("load", partition), new Dictionary<string, string>(), TimeProvider.System.GetUtcNow()), CancellationToken.None);
    }

    /// <summary>The doorbell is the Linux abstract socket; elsewhere only the poll (a CI run on Linux must have it).</summary>
    private static void RequireLinux() =>
        Assert.True(OperatingSystem.IsLinux(), "the request doorbell is Linux-only (an abstract-namespace socket); run these tests on Linux");
}
