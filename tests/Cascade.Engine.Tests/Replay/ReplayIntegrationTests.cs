using System.Collections.Concurrent;
using Cascade.Core.Scheduling;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Replay;

/// <summary>Replay with a real marker folder, a real SQLite file and real processes.</summary>
public sealed class ReplayIntegrationTests
{
    private const string Day = "20190312";

    /// <summary>src → a → b → c → t, and a → s → t: s is b's sibling, t joins both branches.</summary>
    private const string Branches = """
        jobs:
          src:
            run: external
          a:
            after: [src]
            run: { command: [sh, jobs/record.sh] }
          b:
            after: [a]
            run: { command: [sh, jobs/record.sh] }
          c:
            after: [b]
            run: { command: [sh, jobs/record.sh] }
          s:
            after: [a]
            run: { command: [sh, jobs/record.sh] }
          t:
            after: [c, s]
            run: { command: [sh, jobs/record.sh] }
        """;

    [Fact]
    public async Task Replay_of_a_middle_job_with_downstream_reruns_exactly_it_and_its_descendants_once()
    {
        await using var p = TempPipeline.Create(Branches, ("jobs/record.sh", ReplaySupport.Record));
        await p.WriteMarkerAsync("src", Day);
        await p.RunUntilIdleAsync();
        var before = p.Ran();
        Assert.Equal(5, before.Count);

        await p.ReplayAsync("b", Day, downstream: true);
        await p.RunUntilIdleAsync();

        var again = p.Ran().Skip(before.Count).ToList();
        Assert.Equal(["b 20190312", "c 20190312", "t 20190312"], again);
        Assert.All(p.Lines().Skip(before.Count), l => Assert.EndsWith("g2a1", l, StringComparison.Ordinal));
        foreach (var (job, generation) in new[] { ("src", 1), ("a", 1), ("s", 1), ("b", 2), ("c", 2), ("t", 2) })
        {
            var run = await p.RunAsync(job, Day);
            Assert.Equal((job, generation, RunState.Succeeded), (job, run!.Generation, run.State));
        }

        Assert.Equal(
            ["markers/.superseded/g1/b__20190312.done", "markers/.superseded/g1/c__20190312.done", "markers/.superseded/g1/t__20190312.done"],
            Directory.EnumerateFiles(Path.Combine(p.Dir, "markers", ".superseded"), "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(p.Dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        foreach (var job in p.Pipeline.Jobs.Select(j => j.Name))
        {
            Assert.True(p.FileExists($"markers/{job}__{Day}.done"), $"{job} has no current marker");
        }

        var generations = await p.GenerationsAsync("b", Day);
        Assert.Equal([(1, RunState.Superseded), (2, RunState.Succeeded)], generations.Select(g => (g.Generation, g.State)));
        Assert.Equal("replay", generations[1].Cause);
    }

    [Fact]
    public async Task Replay_without_downstream_reruns_only_that_job()
    {
        await using var p = TempPipeline.Create(Branches, ("jobs/record.sh", ReplaySupport.Record));
        await p.WriteMarkerAsync("src", Day);
        await p.RunUntilIdleAsync();

        await p.ReplayAsync("b", Day);
        await p.RunUntilIdleAsync();

        Assert.Equal(["b 20190312"], p.Ran().Skip(5));
        Assert.Equal(1, (await p.RunAsync("c", Day))!.Generation);
    }

    [Fact]
    public async Task A_range_replay_reruns_each_partition_of_the_range_and_what_follows_and_nothing_after_it()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              work:
                after: [src]
                run: { command: [sh, jobs/record.sh] }
              next:
                after: [work]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", ReplaySupport.Record));
        foreach (var day in new[] { "20190309", "20190310", "20190311", "20190312", "20190313" })
        {
            await p.WriteMarkerAsync("src", day);
        }

        await p.RunUntilIdleAsync();
        Assert.Equal(10, p.Ran().Count);

        await p.ReplayAsync("work", "20190310", "20190312", downstream: true);
        await p.RunUntilIdleAsync();

        Assert.Equal(
            ["next 20190310", "next 20190311", "next 20190312", "work 20190310", "work 20190311", "work 20190312"],
            p.Ran().Skip(10).Order(StringComparer.Ordinal));
        foreach (var day in new[] { "20190309", "20190313" })
        {
            Assert.Equal(1, (await p.RunAsync("work", day))!.Generation);
            Assert.Equal(1, (await p.RunAsync("next", day))!.Generation);
        }
    }

    [Fact]
    public async Task A_running_scheduler_takes_the_replay_and_the_run_below_waits_for_the_new_marker_not_an_old_one_renamed_in_late()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              slow:
                after: [src]
                run: { command: [sh, jobs/slow.sh] }
              next:
                after: [slow]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/slow.sh", ReplaySupport.LaterGenerationsWaitForGo), ("jobs/record.sh", ReplaySupport.Record));
        var service = await p.StartAsync(o => o with { InboxInterval = TimeSpan.FromMilliseconds(50) });
        var warnings = new ConcurrentQueue<string>();
        service.Warning += warnings.Enqueue;
        await p.WriteMarkerAsync("src", Day);
        await p.WaitForStateAsync("next", Day, RunState.Succeeded);

        // A producer wrote the old generation's marker to a temp file before the replay...
        var tmp = Path.Combine(p.Dir, "markers", $"slow__{Day}.done.late.tmp");
        await File.WriteAllTextAsync(tmp, string.Empty);
        File.SetLastWriteTimeUtc(tmp, ReplaySupport.Now.UtcDateTime.AddMinutes(-10));

        await p.ReplayAsync("slow", Day, downstream: true);
        await ReplaySupport.WaitAsync(() => p.FileExists($"started.slow__{Day}__g2a1"), 10, "slow generation 2 to start its command");
        Assert.Equal((2, RunState.Running), ((await p.RunAsync("slow", Day))!.Generation, (await p.RunAsync("slow", Day))!.State));
        Assert.True(p.FileExists($"markers/.superseded/g1/slow__{Day}.done"), "the old marker was not moved aside before the new generation started");
        Assert.False(p.FileExists($"markers/slow__{Day}.done"));

        // ...and renames it into place after: it keeps its old write time, so it is stale.
        File.Move(tmp, Path.Combine(p.Dir, "markers", $"slow__{Day}.done"));
        await ReplaySupport.WaitAsync(() => warnings.Any(w => w.Contains($"stale marker for slow {Day}", StringComparison.Ordinal)), 10, "the stale marker warning");
        Assert.Equal((2, RunState.Waiting), ((await p.RunAsync("next", Day))!.Generation, (await p.RunAsync("next", Day))!.State));
        Assert.Equal(RunState.Running, (await p.RunAsync("slow", Day))!.State);

        await File.WriteAllTextAsync(Path.Combine(p.Dir, "go"), string.Empty);
        await TempPipeline.WaitUntilAsync(async () => (await p.RunAsync("next", Day)) is { Generation: 2, State: RunState.Succeeded }, TimeSpan.FromSeconds(10), "next generation 2 to succeed");

        var slow = await p.RunAsync("slow", Day);
        var next = await p.RunAsync("next", Day);
        Assert.True(next!.StartedAt >= slow!.FinishedAt, $"next started {next.StartedAt:O}, before slow's new generation finished {slow.FinishedAt:O}");
        Assert.Equal(["next 20190312 next__20190312__g1a1", "slow 20190312 slow__20190312__g2a1", "next 20190312 next__20190312__g2a1"], p.Lines().Where(l => !l.StartsWith("slow 20190312 slow__20190312__g1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Replay_of_a_running_run_is_refused_and_with_force_its_command_is_killed_and_the_new_generation_runs()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              slow:
                after: [src]
                run: { command: [sh, jobs/slow.sh] }
              next:
                after: [slow]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/slow.sh", ReplaySupport.SlowFirstGeneration), ("jobs/record.sh", ReplaySupport.Record));
        var service = await p.StartAsync(o => o with { InboxInterval = TimeSpan.FromMilliseconds(50) });
        var warnings = new ConcurrentQueue<string>();
        service.Warning += warnings.Enqueue;
        await p.WriteMarkerAsync("src", Day);
        await ReplaySupport.WaitAsync(() => p.Pids().Count == 1, 10, "slow generation 1 to start");
        var firstPid = Assert.Single(p.Pids());

        await p.ReplayAsync("slow", Day);
        await ReplaySupport.WaitAsync(() => warnings.Any(w => w.Contains("refused", StringComparison.Ordinal)), 10, "the refusal");

        Assert.Contains("--force", warnings.First(w => w.Contains("refused", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal((1, RunState.Running), ((await p.RunAsync("slow", Day))!.Generation, (await p.RunAsync("slow", Day))!.State));
        Assert.True(ReplaySupport.IsAlive(firstPid));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await p.ReplayAsync("slow", Day, force: true);
        await p.WaitForStateAsync("next", Day, RunState.Succeeded);
        await ReplaySupport.WaitAsync(() => !ReplaySupport.IsAlive(firstPid), 10, "the first generation's command to be killed");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the first generation's 30 s command was waited for, not killed");
        Assert.Equal(["slow 20190312 slow__20190312__g2a1", "next 20190312 next__20190312__g1a1"], p.Lines());
        var generations = await p.GenerationsAsync("slow", Day);
        Assert.Equal([(1, RunState.Superseded), (2, RunState.Succeeded)], generations.Select(g => (g.Generation, g.State)));
    }

    // BUG: a forced replay kills the old generation's attempt, but nothing ever records that attempt's
    // end: the "superseded" change is not among the events SqliteRunStore.CommitAsync finishes attempts
    // on, and the killed attempt's RunExited is dropped by the core as stale (no RunChanged). So
    // `cascade history` shows the killed g1 attempt as "running" forever.
    [Fact]
    public async Task BUG_the_killed_attempt_of_a_force_replayed_run_is_recorded_as_finished()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              slow:
                after: [src]
                run: { command: [sh, jobs/slow.sh] }
            """, ("jobs/slow.sh", ReplaySupport.SlowFirstGeneration));
        await p.StartAsync(o => o with { InboxInterval = TimeSpan.FromMilliseconds(50) });
        await p.WriteMarkerAsync("src", Day);
        await ReplaySupport.WaitAsync(() => p.Pids().Count == 1, 10, "slow generation 1 to start");
        var firstPid = Assert.Single(p.Pids());

        await p.ReplayAsync("slow", Day, force: true);
        await TempPipeline.WaitUntilAsync(async () => (await p.RunAsync("slow", Day)) is { Generation: 2, State: RunState.Succeeded }, TimeSpan.FromSeconds(10), "slow generation 2 to succeed");
        await ReplaySupport.WaitAsync(() => !ReplaySupport.IsAlive(firstPid), 10, "the first generation's command to be killed");

        await TempPipeline.WaitUntilAsync(
            async () => (await p.AttemptsAsync("slow", Day)).Single(a => a.Generation == 1).FinishedAt is not null,
            TimeSpan.FromSeconds(3),
            "the killed generation 1 attempt to be recorded as finished");
    }

    [Fact]
    public async Task Generations_keep_counting_across_scheduler_restarts_and_every_old_marker_is_kept()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              src:
                run: external
              a:
                after: [src]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", ReplaySupport.Record));
        await p.WriteMarkerAsync("src", Day);
        await p.RunUntilIdleAsync();

        for (var i = 0; i < 3; i++)
        {
            await p.ReplayAsync("a", Day);
            await p.RunUntilIdleAsync();
        }

        Assert.Equal(["a__20190312__g1a1", "a__20190312__g2a1", "a__20190312__g3a1", "a__20190312__g4a1"], p.Lines().Select(l => l.Split(' ')[2]));
        Assert.Equal([1, 2, 3, 4], (await p.GenerationsAsync("a", Day)).Select(g => g.Generation));
        for (var g = 1; g <= 3; g++)
        {
            Assert.True(p.FileExists($"markers/.superseded/g{g}/a__{Day}.done"), $"the marker of generation {g} was not kept");
        }
        Assert.Equal([(1, 1), (2, 1), (3, 1), (4, 1)], (await p.AttemptsAsync("a", Day)).Select(a => (a.Generation, a.Attempt)));
    }
}
