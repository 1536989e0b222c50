using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 8, done-when 3: the demo's failure case (a `revenue` failure, with its running total on
/// yesterday's revenue) leaves at most the runs of partitions that have inputs — and stale runs can
/// be cleared with `cascade cancel JOB FROM..TO`.
/// </summary>
public sealed class BoundedFailureTests : IDisposable
{
    private const string Failing = "#!/usr/bin/env bash\nif [ \"$1\" = 2019-03-12 ]; then echo \"revenue broke on $1\" >&2; exit 1; fi\n";

    private readonly TempWorkspace _ws = new();

    private string Demo => _ws.PathOf("demo");

    private async Task<List<(string Job, string Partition, string State, string? Reason)>> RunsAsync()
    {
        var status = (await CascadeCli.RunAsync(Demo, "status", "--json")).AssertExitCode(0);
        using var doc = JsonDocument.Parse(status.StdOut);
        return [.. doc.RootElement.EnumerateArray().Select(r => (
            r.GetProperty("job").GetString()!,
            r.GetProperty("partition").GetString()!,
            r.GetProperty("state").GetString()!,
            r.GetProperty("reason").ValueKind == JsonValueKind.String ? r.GetProperty("reason").GetString() : null))];
    }

    [Fact]
    public async Task Regression_8_07_a_revenue_failure_in_the_demo_leaves_only_runs_of_days_that_have_inputs_and_stale_runs_can_be_cancelled()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var script = Path.Combine(Demo, "jobs", "revenue.sh");
        var original = await File.ReadAllTextAsync(script);
        await File.WriteAllTextAsync(script, Failing + original);

        var run = await CascadeCli.RunAsync(Demo, "run", "--until-idle");

        Assert.Equal(1, run.ExitCode); // a run it ran broke
        Assert.Matches(@"revenue 20190312 +FAILED: exited with code 1", run.Output);
        var lines = run.Output.Split('\n').Length;
        Assert.True(lines < 300, $"{lines} lines of output for one failure");
        var runs = await RunsAsync();
        var days = runs.Select(r => r.Partition[..8]).Distinct().Order().ToList();
        Assert.Equal(["20190311", "20190312"], days); // only the days with a game_logs marker
        Assert.Contains(("revenue", "20190312", "failed"), runs.Select(r => (r.Job, r.Partition, r.State)));
        Assert.Contains(("bi_import", "20190312", "upstream_failed"), runs.Select(r => (r.Job, r.Partition, r.State)));
        Assert.DoesNotContain(runs, r => r.State == "waiting");

        // Fixed and triggered: the runs it broke wait again only where they exist, and the chain ends.
        await File.WriteAllTextAsync(script, original);
        (await CascadeCli.RunAsync(Demo, "trigger", "revenue", "2019-03-12")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle")).AssertExitCode(0); // nothing it ran broke
        runs = await RunsAsync();
        Assert.Contains(("bi_import", "20190312", "succeeded"), runs.Select(r => (r.Job, r.Partition, r.State)));
        Assert.Equal([("revenue", "20190313")], runs.Where(r => r.State == "waiting").Select(r => (r.Job, r.Partition)).ToList()); // waits for game_logs 20190313, as the README says
        Assert.True(runs.Count <= 60, $"{runs.Count} runs");

        // A waiting run nobody wants any more is cleared through the request path, with a dry run first.
        var plan = (await CascadeCli.RunAsync(Demo, "cancel", "revenue", "2019-03-13..2026-12-31", "--dry-run")).AssertExitCode(0);
        Assert.Contains("1 run(s) to cancel: 1 waiting", plan.StdOut, StringComparison.Ordinal);
        Assert.Contains("revenue 20190313  waiting", plan.StdOut, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing was changed.", plan.StdOut, StringComparison.Ordinal);
        Assert.Contains(runs, r => r is { Job: "revenue", Partition: "20190313", State: "waiting" });
        (await CascadeCli.RunAsync(Demo, "cancel", "revenue", "2019-03-13..2026-12-31")).AssertExitCode(0);
        Assert.True((await CascadeCli.RunAsync(Demo, "run", "--until-idle")).ExitCode is 0 or 1);
        runs = await RunsAsync();
        Assert.Contains(("revenue", "20190313", "failed", "cancelled"), runs.Select(r => (r.Job, r.Partition, r.State, r.Reason)));
        Assert.DoesNotContain(runs, r => r.State == "waiting");
    }

    public void Dispose() => _ws.Dispose();
}
