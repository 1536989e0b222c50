using Cascade.Core.Scheduling;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Integration;

/// <summary>Retries and failures with real processes.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task A_job_that_fails_twice_then_succeeds_finishes_on_attempt_3()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              flaky:
                after: [src]
                retries: 2
                retry_backoff: 50ms
                run: { command: [sh, jobs/fail.sh, "2"] }
              next:
                after: [flaky]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/fail.sh", Scripts.FailTimes), ("jobs/record.sh", Scripts.Record));
        await p.WriteMarkerAsync("src", "20190312");

        await p.RunUntilIdleAsync();

        var flaky = await p.RunAsync("flaky", "20190312");
        Assert.Equal(RunState.Succeeded, flaky!.State);
        Assert.Equal(3, flaky.Attempt);
        Assert.Equal(2, flaky.Failures);
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("next", "20190312"))!.State);

        await using var store = await p.OpenStoreAsync();
        var attempts = await store.GetAttemptsAsync(TempPipeline.Key("flaky", "20190312"), CancellationToken.None);
        Assert.Equal([3, 3, 0], attempts.Select(a => a.ExitCode ?? -1));
        Assert.True(attempts[1].StartedAt - attempts[0].FinishedAt!.Value >= TimeSpan.FromMilliseconds(50), "first retry waited its backoff");
        Assert.True(attempts[2].StartedAt - attempts[1].FinishedAt!.Value >= TimeSpan.FromMilliseconds(100), "second retry waited twice the backoff");
        Assert.Contains("failing on purpose", await File.ReadAllTextAsync(Runtime.LogFiles.PathOf(p.LogDirectory, flaky.Key, 1, 1)));
    }

    [Fact]
    public async Task A_job_that_always_fails_ends_failed_and_nothing_downstream_starts()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              broken:
                after: [src]
                retries: 1
                retry_backoff: 10ms
                run: { command: [sh, jobs/fail.sh, "99"] }
              next:
                after: [broken]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/fail.sh", Scripts.FailTimes), ("jobs/record.sh", Scripts.Record));
        await p.WriteMarkerAsync("src", "20190312");

        await p.RunUntilIdleAsync();

        var broken = await p.RunAsync("broken", "20190312");
        Assert.Equal(RunState.Failed, broken!.State);
        Assert.Equal(2, broken.Attempt);
        Assert.Equal(3, broken.ExitCode);
        Assert.Contains("exited with code 3", broken.Reason, StringComparison.Ordinal);
        var next = await p.RunAsync("next", "20190312");
        Assert.Equal(RunState.UpstreamFailed, next!.State);
        Assert.Equal(0, next.Attempt);
        Assert.False(p.FileExists("runs.log"));
        Assert.False(p.FileExists("markers/broken__20190312.done"));
    }

    [Fact]
    public async Task A_command_that_cannot_start_fails_at_once_with_its_reason()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              missing:
                after: [src]
                retries: 3
                run: { command: [./jobs/does-not-exist.sh] }
            """);
        await p.WriteMarkerAsync("src", "20190312");

        await p.RunUntilIdleAsync();

        var run = await p.RunAsync("missing", "20190312");
        Assert.Equal(RunState.Failed, run!.State);
        Assert.Equal(1, run.Attempt);
        Assert.Contains("could not start", run.Reason, StringComparison.Ordinal);
        Assert.Contains("does-not-exist.sh", run.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_param_fails_the_run_at_once_naming_the_placeholder()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              needs:
                after: [src]
                retries: 3
                run: { command: [sh, jobs/record.sh, "{params.customer}"] }
            """, ("jobs/record.sh", Scripts.Record));
        await p.WriteMarkerAsync("src", "20190312");

        await p.RunUntilIdleAsync();

        var run = await p.RunAsync("needs", "20190312");
        Assert.Equal(RunState.Failed, run!.State);
        Assert.Contains("{params.customer}", run.Reason, StringComparison.Ordinal);
        Assert.False(p.FileExists("runs.log"));
    }

    [Fact]
    public async Task Max_parallel_per_job_is_never_exceeded()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              work:
                grain: hourly
                after: [src]
                max_parallel: 2
                run: { command: [sh, jobs/concurrency.sh] }
            """, ("jobs/concurrency.sh", """
            #!/bin/sh
            # Records how many of us run at once, using a lock-free counter of files.
            touch "running.$CASCADE_PARTITION"
            ls running.* | wc -l >> concurrency.log
            sleep 0.05
            rm "running.$CASCADE_PARTITION"
            """));
        await p.WriteMarkerAsync("src", "20190312");

        await p.RunUntilIdleAsync(maxParallel: 8);

        var seen = p.ReadFile("concurrency.log").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        Assert.Equal(24, seen.Count);
        Assert.True(seen.Max() <= 2, $"saw {seen.Max()} at once");
    }
}
