using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>Issue 8, item 1: a replay never starts a run whose inputs are not done (guarantee 1); the plan says so.</summary>
public sealed class ReplayInputsTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    private string Demo => _ws.PathOf("demo");

    [Fact]
    public async Task Regression_8_01_replay_of_a_partition_without_inputs_plans_a_wait_naming_them_and_the_run_waits()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle")).AssertExitCode(0);

        var plan = (await CascadeCli.RunAsync(Demo, "replay", "player_entry", "20190405", "--dry-run")).AssertExitCode(0);
        Assert.Matches(@"player_entry 20190405 +no run yet +new g1 +waits for game_logs 20190405 \(not done\)", plan.StdOut);
        Assert.DoesNotContain("starts at once", plan.StdOut, StringComparison.Ordinal);
        var json = (await CascadeCli.RunAsync(Demo, "replay", "player_entry", "20190404..20190405", "--dry-run", "--json")).AssertExitCode(0);
        using (var doc = JsonDocument.Parse(json.StdOut))
        {
            var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.All(runs, r => Assert.False(r.GetProperty("starts_at_once").GetBoolean()));
            Assert.Equal(["game_logs 20190405"], runs[1].GetProperty("waits_for").EnumerateArray().Select(e => e.GetString()).ToList());
        }

        var replayedDone = (await CascadeCli.RunAsync(Demo, "replay", "player_entry", "20190312", "--dry-run")).AssertExitCode(0);
        Assert.Contains("starts at once (its inputs are done)", replayedDone.StdOut, StringComparison.Ordinal);

        (await CascadeCli.RunAsync(Demo, "replay", "player_entry", "20190405")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle")).AssertExitCode(0);

        var why = (await CascadeCli.RunAsync(Demo, "why", "player_entry", "20190405")).AssertExitCode(0);
        Assert.Contains("waiting", why.StdOut, StringComparison.Ordinal);
        Assert.False(_ws.Exists("demo/markers/player_entry__20190405.done"), "the replayed run ran without its input");
    }

    public void Dispose() => _ws.Dispose();
}
