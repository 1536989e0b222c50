using System.Net;
using System.Net.Sockets;
using System.Text;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>The HTTP API as the commands host it: `run` and `serve` as real processes on 127.0.0.1.</summary>
public sealed class WebCommandTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    private string Demo => _ws.PathOf("demo");

    [Fact]
    public async Task Run_on_a_non_loopback_address_without_a_token_is_refused_before_anything_starts()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var result = await CascadeCli.RunAsync(Demo, "run", "--urls", "http://0.0.0.0:5170");
        result.AssertExitCode(1);
        Assert.Contains("is not a loopback address", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("CASCADE_API_TOKEN", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Demo, ".cascade", "state.db")), "the refused run created the state");
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_until_idle_serves_no_API_unless_urls_is_given()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var quiet = await CascadeCli.RunAsync(Demo, "run", "--until-idle", "-q");
        quiet.AssertExitCode(0);
        Assert.DoesNotContain("HTTP API on", quiet.Output, StringComparison.Ordinal);

        var port = FreePort();
        var served = await CascadeCli.RunAsync(Demo, "run", "--until-idle", "-q", "--urls", $"http://127.0.0.1:{port}");
        served.AssertExitCode(0);
        Assert.Contains($"HTTP API on http://127.0.0.1:{port}", served.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_answers_from_the_state_and_its_replay_dry_run_is_the_CLI_plan()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle", "-q")).AssertExitCode(0);
        var status = await CascadeCli.RunAsync(Demo, "status", "--job", "bi_import", "--json");
        var plan = await CascadeCli.RunAsync(Demo, "replay", "sessions", "20190312", "--downstream", "--dry-run", "--json");
        plan.AssertExitCode(0);

        var port = FreePort();
        await using var serve = CascadeCli.Start(Demo, "serve", "--urls", $"http://127.0.0.1:{port}");
        await serve.WaitForOutputAsync(o => o.Contains("HTTP API on", StringComparison.Ordinal), "the API to listen", TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var body = new StringContent("{\"job\": \"sessions\", \"from\": \"20190312\", \"downstream\": true, \"dry_run\": true}", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/api/replay", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Normal(plan.StdOut), Normal(await response.Content.ReadAsStringAsync()));

        // The runs are the shapes `status --json` prints.
        var runs = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/runs?job=bi_import")).RootElement.GetProperty("runs");
        var cli = System.Text.Json.JsonDocument.Parse(status.StdOut).RootElement;
        Assert.Equal(cli.EnumerateArray().Select(Compact).Reverse(), runs.EnumerateArray().Select(Compact));

        // A write without a scheduler is a committed request that waits for the next `cascade run`.
        using var trigger = await http.PostAsync("/api/runs/revenue/20190313/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        Assert.Contains("\"scheduler_running\": false", await trigger.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await serve.TerminateAsync();
        (await serve.WaitForExitAsync(TimeSpan.FromSeconds(30))).AssertExitCode(0);
    }

    [Fact]
    public async Task Serve_streams_the_changes_a_separate_run_process_commits_to_the_state()
    {
        (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle", "-q")).AssertExitCode(0);
        var port = FreePort();
        await using var serve = CascadeCli.Start(Demo, "serve", "--urls", $"http://127.0.0.1:{port}");
        await serve.WaitForOutputAsync(o => o.Contains("HTTP API on", StringComparison.Ordinal), "the API to listen", TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await using var events = await SseClient.ConnectAsync(http, "/api/events");

        // Another process changes the state: a marker of the external job, then a scheduler run.
        (await CascadeCli.RunAsync(Demo, "done", "game_logs", "20190313")).AssertExitCode(0);
        (await CascadeCli.RunAsync(Demo, "run", "--until-idle", "-q")).AssertExitCode(0);

        var seen = new List<string>();
        var ids = new List<long>();
        while (!seen.Contains("bi_import 20190313 succeeded"))
        {
            var e = await events.NextAsync(TimeSpan.FromSeconds(10)); // serve polls the state every 0.5 s
            Assert.Equal("run", e.Event);
            ids.Add(e.Id);
            seen.Add($"{e.Data.GetProperty("job").GetString()} {e.Data.GetProperty("partition").GetString()} {e.Data.GetProperty("state").GetString()}");
        }

        Assert.Equal("game_logs 20190313 succeeded", seen[0]); // the external job's run, seen done by its marker
        Assert.Contains("payments 2019031323 succeeded", seen);
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        await serve.TerminateAsync();
        (await serve.WaitForExitAsync(TimeSpan.FromSeconds(30))).AssertExitCode(0);
    }

    private static string Normal(string json) => Compact(System.Text.Json.JsonDocument.Parse(json).RootElement);

    /// <summary>The JSON without layout or escaping differences: what the two front doors must agree on.</summary>
    private static string Compact(System.Text.Json.JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            element.WriteTo(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => _ws.Dispose();
}
