using System.Collections.Concurrent;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>`cascade done JOB PARTITION [--meta k=v]… [--param k=v]…` writes a done marker, or nothing at all on bad input.</summary>
public sealed class DoneCommandTests : IDisposable
{
    private const string Pipeline = """
        jobs:
          game_logs:
            run: external
          payments:
            grain: hourly
            run: external
          player_entry:
            after: [game_logs]
            run: { command: [echo, "{date}"] }
        """;

    private readonly TempWorkspace _ws = new();

    public DoneCommandTests() => _ws.Write("cascade.yaml", Pipeline);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Done_writes_the_marker_with_meta_and_params_as_a_json_body()
    {
        var result = await CascadeCli.RunAsync(
            _ws.Root, "done", "game_logs", "2019-03-12",
            "--meta", "rows=5", "--meta", "ok=true", "--meta", "uploaded_by=server 1",
            "--param", "region=eu", "--param", "note=a \"quoted\" value");

        result.AssertExitCode(0);
        Assert.Contains("markers/game_logs__20190312.done", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(["cascade.yaml", "markers/game_logs__20190312.done"], _ws.Files());

        using var body = JsonDocument.Parse(_ws.Read("markers/game_logs__20190312.done"));
        var root = body.RootElement;
        Assert.Equal(5, root.GetProperty("rows").GetInt32());
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("server 1", root.GetProperty("uploaded_by").GetString());
        Assert.Equal("eu", root.GetProperty("params").GetProperty("region").GetString());
        Assert.Equal("a \"quoted\" value", root.GetProperty("params").GetProperty("note").GetString());
    }

    [Fact]
    public async Task Done_writes_the_marker_body_byte_for_byte_as_before_the_source_generated_json()
    {
        // Pinned from the reflection-based build: escaping (non-ASCII, HTML-sensitive characters,
        // quotes, a surrogate pair), JSON literals kept as values, key order, no whitespace.
        var result = await CascadeCli.RunAsync(
            _ws.Root, "done", "game_logs", "20190312",
            "--meta", "note=café <b>&'+\" \\ 😀", "--meta", "rows=5", "--meta", "big=1e400", "--meta", "ok=true",
            "--param", "region=eu é");

        result.AssertExitCode(0);
        Assert.Equal(
            """{"big":1e400,"note":"caf\u00E9 \u003Cb\u003E\u0026\u0027\u002B\u0022 \\ \uD83D\uDE00","ok":true,"rows":5,"params":{"region":"eu \u00E9"}}""",
            _ws.Read("markers/game_logs__20190312.done"));
    }

    [Fact]
    public async Task Done_without_meta_or_params_writes_an_empty_marker()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "game_logs", "20190312")).AssertExitCode(0);

        Assert.Equal(string.Empty, _ws.Read("markers/game_logs__20190312.done").Trim());
    }

    [Fact]
    public async Task Done_moves_a_complete_temporary_file_into_place_so_nobody_reads_half_a_marker()
    {
        var folder = Directory.CreateDirectory(_ws.PathOf("markers")).FullName;
        var events = new ConcurrentQueue<(WatcherChangeTypes Kind, string Name, string? OldName)>();
        using var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true };
        watcher.Created += (_, e) => events.Enqueue((e.ChangeType, e.Name!, null));
        watcher.Changed += (_, e) => events.Enqueue((e.ChangeType, e.Name!, null));
        watcher.Renamed += (_, e) => events.Enqueue((e.ChangeType, e.Name!, e.OldName));
        watcher.EnableRaisingEvents = true;

        (await CascadeCli.RunAsync(_ws.Root, "done", "game_logs", "20190312", "--meta", "rows=1")).AssertExitCode(0);

        var renamed = await TempWorkspace.EventuallyAsync(
            () => events.Any(e => e.Kind == WatcherChangeTypes.Renamed && e.Name == "game_logs__20190312.done"),
            TimeSpan.FromSeconds(10));
        var seen = string.Join("\n", events.Select(e => $"{e.Kind} {e.OldName} -> {e.Name}"));
        Assert.True(renamed, $"the marker was not renamed into place; events:\n{seen}");
        Assert.DoesNotContain(events, e => e.Kind is WatcherChangeTypes.Created or WatcherChangeTypes.Changed && e.Name == "game_logs__20190312.done");
        Assert.Equal(["markers/game_logs__20190312.done"], _ws.Files("markers"));
    }

    [Fact]
    public async Task Done_accepts_an_hourly_partition_in_iso_form()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "done", "payments", "2019-03-12T05");

        result.AssertExitCode(0);
        Assert.True(_ws.Exists("markers/payments__2019031205.done"), result.ToString());
    }

    [Theory]
    [InlineData("bad partition", new[] { "done", "game_logs", "2019-13-45" }, new[] { "'2019-13-45' is not a partition", "20190312" })]
    [InlineData("unknown job", new[] { "done", "game_log", "20190312" }, new[] { "no job 'game_log'", "game_logs" })]
    [InlineData("daily partition for an hourly job", new[] { "done", "payments", "20190312" }, new[] { "'payments' is hourly", "2019031205" })]
    [InlineData("hourly partition for a daily job", new[] { "done", "game_logs", "2019031205" }, new[] { "'game_logs' is daily", "20190312" })]
    [InlineData("param without a value", new[] { "done", "game_logs", "20190312", "--param", "region" }, new[] { "--param 'region'", "KEY=VALUE" })]
    [InlineData("param name with a space", new[] { "done", "game_logs", "20190312", "--param", "my region=eu" }, new[] { "'my region' is not a valid name" })]
    public async Task Bad_input_to_done_gets_a_clear_error_and_writes_nothing(string why, string[] args, string[] expected)
    {
        var result = await CascadeCli.RunAsync(_ws.Root, args);

        Assert.True(result.ExitCode == 1, $"{why}: {result}");
        Assert.StartsWith("error: ", result.StdErr, StringComparison.Ordinal);
        foreach (var text in expected)
        {
            Assert.Contains(text, result.StdErr, StringComparison.Ordinal);
        }

        Assert.Equal(["cascade.yaml"], _ws.Files());
    }

    // Regression: `--meta params=x` was written as a metadata key "params", so the body had "params"
    // twice ({"params":"x","params":{…}}) and the downstream run got a bad-params warning.
    [Fact]
    public async Task Meta_named_params_is_refused_instead_of_clashing_with_the_params_object()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "done", "game_logs", "20190312", "--meta", "params=oops", "--param", "region=eu");

        Assert.True(result.ExitCode == 1, $"`--meta params=…` was accepted; marker body: {(_ws.Exists("markers/game_logs__20190312.done") ? _ws.Read("markers/game_logs__20190312.done") : "(none)")}\n{result}");
        Assert.Contains("params", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(["cascade.yaml"], _ws.Files());
    }
}
