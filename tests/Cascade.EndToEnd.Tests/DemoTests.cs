using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>The example pipeline written by <c>cascade init</c>, run to idle, then inspected with every read command.</summary>
public sealed class DemoTests(DemoFixture demo) : IClassFixture<DemoFixture>
{
    private static readonly string[] _chainJobs = ["player_entry", "sessions", "revenue", "bi_import"];
    private static readonly string[] _days = ["20190311", "20190312"];
    private static readonly string[] _requiredKeys = ["job", "partition", "state", "attempt", "generation", "activated_at", "finished_at", "meta"];

    private async Task<JsonElement> StatusJsonAsync(params string[] extra)
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, ["status", "--json", .. extra])).AssertExitCode(0);
        using var doc = JsonDocument.Parse(result.StdOut);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        return doc.RootElement.Clone();
    }

    private static JsonElement Find(JsonElement runs, string job, string partition) =>
        runs.EnumerateArray().SingleOrDefault(r => r.GetProperty("job").GetString() == job && r.GetProperty("partition").GetString() == partition) is { ValueKind: JsonValueKind.Object } run
            ? run
            : throw new Xunit.Sdk.XunitException($"no run {job} {partition} in status --json:\n{runs}");

    [Fact]
    public void Init_writes_the_demo_and_tells_what_to_run_next()
    {
        demo.Init.AssertExitCode(0);
        Assert.Contains(" run --until-idle", demo.Init.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(demo.Demo, "cascade.yaml")));
        Assert.True(File.Exists(Path.Combine(demo.Demo, "markers", "game_logs__20190312.done")));
    }

    [Fact]
    public async Task Init_refuses_to_overwrite_an_existing_pipeline()
    {
        var result = await CascadeCli.RunAsync(Path.GetDirectoryName(demo.Demo)!, "init", "demo");

        result.AssertExitCode(1);
        Assert.Contains("already exists", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--force", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_until_idle_runs_the_chain_and_the_bi_report_of_20190312_exists()
    {
        demo.Run.AssertExitCode(0);
        Assert.Matches(@"bi_import 20190312 +succeeded", demo.Run.StdOut);
        Assert.Contains("idle:", demo.Run.StdOut, StringComparison.Ordinal);

        var report = Path.Combine(demo.Demo, "data", "bi", "2019-03-12.txt");
        Assert.True(File.Exists(report), $"{report} is missing\n{demo.Run}");
        Assert.Contains("BI report", File.ReadAllText(report), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_json_shows_every_run_of_the_chain_succeeded_for_both_days()
    {
        var runs = await StatusJsonAsync();

        foreach (var day in _days)
        {
            foreach (var job in _chainJobs)
            {
                var run = Find(runs, job, day);
                Assert.True(run.GetProperty("state").GetString() == "succeeded", $"{job} {day} is not succeeded: {run}");
                Assert.Equal(1, run.GetProperty("attempt").GetInt32());
            }

            for (var hour = 0; hour < 24; hour++)
            {
                Assert.Equal("succeeded", Find(runs, "payments", $"{day}{hour:D2}").GetProperty("state").GetString());
            }

            // The external job was never run: its marker made it done.
            Assert.Equal(0, Find(runs, "game_logs", day).GetProperty("attempt").GetInt32());
        }

        // Runs waiting for inputs stay waiting; nothing is left queued or running when idle.
        Assert.Equal("waiting", Find(runs, "revenue", "20190313").GetProperty("state").GetString());
        Assert.DoesNotContain(runs.EnumerateArray(), r => r.GetProperty("state").GetString() is "queued" or "running" or "failed");
    }

    [Fact]
    public async Task Status_json_objects_have_the_stable_keys_and_utc_iso_times()
    {
        var runs = await StatusJsonAsync();

        Assert.NotEmpty(runs.EnumerateArray());
        foreach (var run in runs.EnumerateArray())
        {
            foreach (var key in _requiredKeys)
            {
                Assert.True(run.TryGetProperty(key, out _), $"key '{key}' missing in {run}");
            }

            Assert.Equal(JsonValueKind.Object, run.GetProperty("meta").ValueKind);
            Assert.True(run.GetProperty("generation").GetInt32() >= 1);
            foreach (var key in new[] { "activated_at", "finished_at" })
            {
                var value = run.GetProperty(key);
                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                var text = value.GetString()!;
                Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", text);
                var t = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
                Assert.InRange(t, demo.StartedAt.AddSeconds(-5), demo.EndedAt.AddSeconds(5));
            }
        }

        var entry = Find(runs, "player_entry", "20190312");
        Assert.Equal(JsonValueKind.String, entry.GetProperty("activated_at").ValueKind);
        Assert.Equal(JsonValueKind.String, entry.GetProperty("finished_at").ValueKind);
        Assert.Equal(1, entry.GetProperty("meta").GetProperty("rows").GetInt32());
        Assert.Equal(JsonValueKind.Null, Find(runs, "game_logs", "20190312").GetProperty("activated_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, Find(runs, "revenue", "20190313").GetProperty("finished_at").ValueKind);
    }

    [Fact]
    public async Task Status_json_filters_by_job_and_partition()
    {
        var runs = await StatusJsonAsync("--job", "revenue", "--partition", "2019-03-12");

        var only = Assert.Single(runs.EnumerateArray());
        Assert.Equal("revenue", only.GetProperty("job").GetString());
        Assert.Equal("20190312", only.GetProperty("partition").GetString());
    }

    // Regression: with output redirected, the Spectre table fell back to 80 columns and wrapped
    // cells, so "player_entry" printed as "player_ent" / "ry" and `cascade status | grep` missed it.
    [Fact]
    public async Task Status_table_lists_the_runs_with_whole_job_names_when_piped()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "status")).AssertExitCode(0);

        Assert.Contains("STATE", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("succeeded", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("waiting", result.StdOut, StringComparison.Ordinal);
        foreach (var job in _chainJobs)
        {
            Assert.True(
                Regex.IsMatch(result.StdOut, $@"(?m)^\s*{job}\s+20190312\s+succeeded"),
                $"no row '{job} 20190312 succeeded' in the table:\n{result.StdOut}");
        }
    }

    [Fact]
    public async Task Why_says_a_finished_run_succeeded_and_its_inputs_are_done()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "why", "bi_import", "20190312")).AssertExitCode(0);

        Assert.StartsWith("bi_import 20190312: succeeded", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 of 2 done", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Why_lists_the_inputs_of_a_waiting_run_with_the_missing_ones()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "why", "revenue", "20190313")).AssertExitCode(0);
        var lines = result.StdOut.Split('\n');

        Assert.StartsWith("revenue 20190313: waiting", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("player_entry 20190313", StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("payments", StringComparison.Ordinal) && l.Contains("0 of 24", StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("revenue 20190312", StringComparison.Ordinal) && l.Contains("done", StringComparison.Ordinal) && !l.Contains("missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logs_print_what_the_job_script_printed()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "logs", "player_entry", "20190312")).AssertExitCode(0);

        Assert.Contains("player_entry 2019-03-12:", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("players entered", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("attempt 1", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_prints_mermaid_by_default_with_an_edge_per_dependency()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "graph")).AssertExitCode(0);

        Assert.StartsWith("graph", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("-->", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"player_entry\s*-->\s*\w*sessions", result.StdOut);
        Assert.Matches(@"sessions\s*-->\s*\w*bi_import", result.StdOut);
    }

    [Fact]
    public async Task Graph_prints_graphviz_dot_on_request()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "graph", "--format", "dot")).AssertExitCode(0);

        Assert.StartsWith("digraph", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"revenue\" -> \"bi_import\"", result.StdOut, StringComparison.Ordinal);
        Assert.EndsWith("}", result.StdOut.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Graph_rejects_an_unknown_format()
    {
        var result = await CascadeCli.RunAsync(demo.Demo, "graph", "--format", "png");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("png", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_run_until_idle_finds_nothing_to_do_and_runs_nothing_again()
    {
        var result = (await CascadeCli.RunAsync(demo.Demo, "run", "--until-idle")).AssertExitCode(0);

        Assert.Contains("nothing to do", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("started", result.StdOut, StringComparison.Ordinal);
        var runs = await StatusJsonAsync();
        Assert.All(runs.EnumerateArray(), r => Assert.InRange(r.GetProperty("attempt").GetInt32(), 0, 1));
    }
}
