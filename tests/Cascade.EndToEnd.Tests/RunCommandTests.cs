using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>`cascade run`: how commands are started, which markers count, and a live scheduler reacting to the CLI.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static Dictionary<string, string> EnvFile(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);

    [Fact]
    public async Task A_warning_of_run_is_one_line_on_stderr_with_its_time_and_level_and_no_logger_category()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
            """);
        _ws.Write("markers/nosuch__20190312.done", string.Empty);

        var run = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");

        run.AssertExitCode(0);
        var line = Assert.Single(run.StdErr.Split('\n'), l => l.Contains("nosuch", StringComparison.Ordinal));
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3} warn: ignored marker 'nosuch__20190312\.done': no job 'nosuch' in the pipeline$", line);
        Assert.DoesNotContain("nosuch", run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_run_in_the_pipeline_folder_with_the_cascade_environment_and_merged_params()
    {
        _ws.Write("sub/cascade.yaml", """
            jobs:
              upstream:
                run: external
              envdump:
                after: [upstream]
                params: { region: eu, tier: gold }
                run: { command: [sh, -c, 'env | grep ^CASCADE_ | sort > env.txt; pwd > pwd.txt'] }
              hourly:
                grain: hourly
                run: { command: [sh, -c, 'printf "%s|%s|%s" "$1" "$CASCADE_HOUR" "$CASCADE_PARTITION" > hour.txt', sh, "{hour}"] }
            """);

        (await CascadeCli.RunAsync(_ws.Root, "done", "-f", "sub/cascade.yaml", "upstream", "20190312", "--param", "region=us")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "-f", "sub/cascade.yaml", "hourly", "2019-03-12T05")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle", "-f", "sub/cascade.yaml")).AssertExitCode(0);

        Assert.Equal(_ws.PathOf("sub"), _ws.Read("sub/pwd.txt").Trim());
        var env = EnvFile(_ws.Read("sub/env.txt"));
        Assert.Equal("envdump", env["CASCADE_JOB"]);
        Assert.Equal("20190312", env["CASCADE_PARTITION"]);
        Assert.Equal("2019-03-12", env["CASCADE_DATE"]);
        Assert.Equal("2019", env["CASCADE_YEAR"]);
        Assert.Equal("03", env["CASCADE_MONTH"]);
        Assert.Equal("12", env["CASCADE_DAY"]);
        Assert.Equal(string.Empty, env["CASCADE_HOUR"]);
        Assert.False(string.IsNullOrEmpty(env["CASCADE_RUN_ID"]));
        Assert.Equal(_ws.PathOf("sub", "markers", "envdump__20190312.done"), env["CASCADE_MARKER"]);
        using (var prms = JsonDocument.Parse(env["CASCADE_PARAMS"]))
        {
            Assert.Equal("us", prms.RootElement.GetProperty("region").GetString()); // the input's marker wins
            Assert.Equal("gold", prms.RootElement.GetProperty("tier").GetString()); // the job's default stays
        }

        Assert.Equal("05|05|2019031205", _ws.Read("sub/hour.txt"));

        // Exit 0 without a marker: Cascade writes an empty one. Everything lives next to the pipeline file.
        Assert.Equal(string.Empty, _ws.Read("sub/markers/envdump__20190312.done"));
        Assert.True(_ws.Exists("sub/markers/hourly__2019031205.done"));
        Assert.DoesNotContain(_ws.Files(), f => !f.StartsWith("sub/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_markers_are_ignored_with_a_warning_and_a_bad_body_still_counts_as_done()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
              down:
                after: [upstream]
                run: { command: [sh, -c, 'echo ran > down.txt'] }
            """);
        _ws.Write("markers/garbage.done", "");
        _ws.Write("markers/nojob__20190312.done", "");
        _ws.Write("markers/upstream__20191345.done", "");
        _ws.Write("markers/upstream__20190312.done", "{not json");

        var run = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        Assert.Contains("garbage.done", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("no job 'nojob'", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("20191345", run.StdErr, StringComparison.Ordinal);
        Assert.Equal("ran", _ws.Read("down.txt").Trim());

        var status = (await CascadeCli.RunAsync(_ws.Root, "status", "--json")).AssertExitCode(0);
        using var doc = JsonDocument.Parse(status.StdOut);
        var runs = doc.RootElement.EnumerateArray().ToList();
        Assert.DoesNotContain(runs, r => r.GetProperty("job").GetString() == "nojob");
        var upstream = Assert.Single(runs, r => r.GetProperty("job").GetString() == "upstream");
        Assert.Equal("succeeded", upstream.GetProperty("state").GetString());
        Assert.Contains(upstream.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_custom_marker_layout_is_used_for_writing_and_reading_markers()
    {
        _ws.Write("cascade.yaml", """
            markers:
              folder: ./done
              layout: "{partition}/{job}.done"
            jobs:
              upstream:
                run: external
              down:
                after: [upstream]
                run: { command: [sh, -c, 'echo "$1" > down.txt', sh, "{partition}"] }
            """);

        var done = (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        Assert.Contains("done/20190312/upstream.done", done.StdOut, StringComparison.Ordinal);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        Assert.Equal("20190312", _ws.Read("down.txt").Trim());
        Assert.Equal(["done/20190312/down.done", "done/20190312/upstream.done"], _ws.Files("done"));
    }

    [Fact]
    public async Task A_running_scheduler_reacts_to_done_and_trigger_within_seconds_and_a_second_one_is_refused()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
              down:
                after: [upstream]
                run: { command: [sh, -c, 'echo "$1" >> out.txt', sh, "{partition}"] }
            """);
        await using var scheduler = CascadeCli.Start(_ws.Root, "run", "--no-web");
        await scheduler.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);

        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        // The contract is "within a second"; the slack is for a loaded test machine.
        Assert.True(await TempWorkspace.EventuallyAsync(() => _ws.Exists("out.txt"), TimeSpan.FromSeconds(10)), $"no reaction to the marker\n{scheduler.StdOut}\n{scheduler.StdErr}");

        (await CascadeCli.RunAsync(_ws.Root, "trigger", "down", "20190320")).AssertExitCode(0);
        Assert.True(
            await TempWorkspace.EventuallyAsync(() => _ws.Read("out.txt").Contains("20190320", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            $"no reaction to the trigger\n{scheduler.StdOut}\n{scheduler.StdErr}");

        var second = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");
        second.AssertExitCode(1);
        Assert.Contains("another `cascade run`", second.StdErr, StringComparison.Ordinal);

        await scheduler.TerminateAsync();
        var stopped = (await scheduler.WaitForExitAsync(CascadeCli.Timeout)).AssertExitCode(0);
        Assert.Contains("stopped:", stopped.StdOut, StringComparison.Ordinal);
        Assert.Equal("20190312\n20190320\n", _ws.Read("out.txt"));
    }
}
