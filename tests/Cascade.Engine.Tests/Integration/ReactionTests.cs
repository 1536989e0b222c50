using System.Diagnostics;
using Cascade.Core.Scheduling;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Integration;

/// <summary>Real folder, real SQLite file, real processes: how the scheduler reacts to markers.</summary>
public sealed class ReactionTests
{
    // Waits (at most 30 s) until the test opens the gate, then records its run: "slow" finishes
    // when the test says so, not when a sleep happens to end.
    private const string Gate = """
        #!/bin/sh
        i=0
        while [ ! -e gate.open ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
        echo "$CASCADE_JOB $CASCADE_PARTITION" >> runs.log
        """;

    private const string FanIn = """
        jobs:
          slow:
            run: { command: [sh, jobs/gate.sh] }
          fast:
            run: { command: [sh, jobs/sleep.sh, "0"] }
          join:
            after: [slow, fast]
            run: { command: [sh, jobs/record.sh] }
        """;

    [Fact]
    public async Task Fan_in_waits_for_its_slowest_input()
    {
        await using var p = TempPipeline.Create(FanIn, ("jobs/sleep.sh", Scripts.SleepThenRecord), ("jobs/gate.sh", Gate), ("jobs/record.sh", Scripts.Record));
        var service = await p.StartAsync();
        await using (var store = await p.OpenStoreAsync())
        {
            foreach (var job in new[] { "slow", "fast" })
            {
                await store.EnqueueRequestAsync(new Cascade.Engine.State.Request(Cascade.Engine.State.Request.Trigger, TempPipeline.Key(job, "20190312"), new Dictionary<string, string>(), TimeProvider.System.GetUtcNow()), CancellationToken.None);
            }
        }

        await p.WaitForStateAsync("fast", "20190312", RunState.Succeeded);
        var joinWhileSlowRuns = await p.RunAsync("join", "20190312");
        Assert.Equal(RunState.Waiting, joinWhileSlowRuns!.State);
        Assert.Contains((await p.RunAsync("slow", "20190312"))!.State, new[] { RunState.Queued, RunState.Running });

        await File.WriteAllTextAsync(Path.Combine(p.Dir, "gate.open"), string.Empty);

        await p.WaitForStateAsync("join", "20190312", RunState.Succeeded);
        var slow = await p.RunAsync("slow", "20190312");
        var join = await p.RunAsync("join", "20190312");
        Assert.True(join!.StartedAt >= slow!.FinishedAt, $"join started {join.StartedAt:O} before slow finished {slow.FinishedAt:O}");
        Assert.Equal(1, join.Attempt);
        Assert.Equal(3, p.ReadFile("runs.log").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        _ = service;
    }

    [Fact]
    public async Task Params_from_a_marker_body_reach_the_command()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              source:
                run: external
              use:
                after: [source]
                params: { region: us, tier: gold }
                run: { command: [sh, jobs/record.sh, "{params.region}", "{params.tier}", "{date}"] }
            """, ("jobs/record.sh", Scripts.Record));
        await p.WriteMarkerAsync("source", "20190312", """{"rows": 10, "params": {"region": "eu west"}}""");

        await p.RunUntilIdleAsync();

        // One argument per placeholder, spaces and all: no shell split it.
        Assert.Equal("use 20190312 eu west gold 2019-03-12\n", p.ReadFile("runs.log"));
        var run = await p.RunAsync("use", "20190312");
        Assert.Equal("eu west", run!.Params["region"]);
        var source = await p.RunAsync("source", "20190312");
        Assert.Equal(10, source!.Marker!.Meta["rows"].GetInt32());
    }

    [Fact]
    public async Task A_daily_job_after_an_hourly_job_waits_for_all_24_hours()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              payments:
                grain: hourly
                run: external
              revenue:
                after: [payments]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        for (var h = 0; h < 23; h++)
        {
            await p.WriteMarkerAsync("payments", $"20190312{h:D2}");
        }

        await p.RunUntilIdleAsync();
        var waiting = await p.RunAsync("revenue", "20190312");
        Assert.Equal(RunState.Waiting, waiting!.State);
        Assert.False(p.FileExists("runs.log"), "revenue ran with 23 of 24 hours");

        await p.WriteMarkerAsync("payments", "2019031223");
        await p.RunUntilIdleAsync();
        Assert.Equal(RunState.Succeeded, (await p.RunAsync("revenue", "20190312"))!.State);
        Assert.Equal("revenue 20190312 \n", p.ReadFile("runs.log"));
    }

    [Fact]
    public async Task An_offset_chain_arriving_out_of_order_runs_in_partition_order()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              daily:
                run: external
                start: 2019-03-01
              total:
                after: [daily, { job: total, offset: -1 }]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await p.WriteMarkerAsync("daily", "20190303");
        await p.RunUntilIdleAsync();
        Assert.Equal(RunState.Waiting, (await p.RunAsync("total", "20190303"))!.State);

        await p.WriteMarkerAsync("daily", "20190302");
        await p.RunUntilIdleAsync();
        Assert.Equal(RunState.Waiting, (await p.RunAsync("total", "20190302"))!.State);
        Assert.False(p.FileExists("runs.log"));

        await p.WriteMarkerAsync("daily", "20190301");
        await p.RunUntilIdleAsync();

        Assert.Equal(["total 20190301 ", "total 20190302 ", "total 20190303 "], p.ReadFile("runs.log").Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Markers_written_while_no_scheduler_runs_are_picked_up_on_start()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: { command: [sh, jobs/record.sh] }
              c:
                after: [b]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await p.RunUntilIdleAsync();
        Assert.Empty(await p.AllRunsAsync());

        await p.WriteMarkerAsync("a", "20190311");
        await p.WriteMarkerAsync("a", "20190312");
        await p.RunUntilIdleAsync();

        var runs = await p.AllRunsAsync();
        Assert.Equal(6, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunState.Succeeded, r.State));
        Assert.True(p.FileExists("markers/c__20190312.done"), "Cascade writes the marker of a command that exits 0 without one");
    }

    [Fact]
    public async Task A_marker_dropped_into_the_folder_while_the_scheduler_runs_starts_downstream_within_a_second()
    {
        await using var p = TempPipeline.Create("""
            markers:
              rescan_interval: 1h
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        await p.StartAsync(o => o with { RescanInterval = TimeSpan.FromHours(1) });

        // The producer protocol: write a temp file, rename it into place.
        var clock = Stopwatch.StartNew();
        var tmp = Path.Combine(p.Dir, "markers", "a__20190312.done.tmp");
        await File.WriteAllTextAsync(tmp, "{}");
        File.Move(tmp, Path.Combine(p.Dir, "markers", "a__20190312.done"));
        await TempPipeline.WaitUntilAsync(
            async () => (await p.RunAsync("b", "20190312"))?.State is RunState.Running or RunState.Succeeded,
            TimeSpan.FromSeconds(1),
            "b to start within a second of a's marker (the periodic rescan is an hour away: only the watcher can do it)");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));

        // A producer writing the marker in place (no rename) is picked up too.
        await File.WriteAllTextAsync(Path.Combine(p.Dir, "markers", "a__20190313.done"), """{"params": {"k": "v"}}""");
        await p.WaitForStateAsync("b", "20190313", RunState.Succeeded, seconds: 5);
        Assert.Equal("v", (await p.RunAsync("b", "20190313"))!.Params["k"]);
    }

    [Fact]
    public async Task Garbage_markers_are_ignored_and_counted_and_the_scheduler_goes_on()
    {
        await using var p = TempPipeline.Create("""
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: { command: [sh, jobs/record.sh] }
            """, ("jobs/record.sh", Scripts.Record));
        Directory.CreateDirectory(Path.Combine(p.Dir, "markers", "sub"));
        foreach (var name in new[] { "garbage.done", "nojob__20190312.done", "a__20191399.done", "a__2019031205.done", "A__20190312.done", "sub/a__20190312.done" })
        {
            await File.WriteAllTextAsync(Path.Combine(p.Dir, "markers", name), "");
        }

        await File.WriteAllTextAsync(Path.Combine(p.Dir, "markers", "a__20190312.done"), "{not json");
        var warnings = new List<string>();
        var service = await p.StartAsync();
        service.Warning += warnings.Add;

        await p.WaitForStateAsync("b", "20190312", RunState.Succeeded);
        Assert.Equal(6, service.Counters.MarkersIgnored);
        var a = await p.RunAsync("a", "20190312");
        Assert.Equal(RunState.Succeeded, a!.State);
        Assert.Contains(a.Warnings, w => w.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Equal(2, (await p.AllRunsAsync()).Count);
    }
}
