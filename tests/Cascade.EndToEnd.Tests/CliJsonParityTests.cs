using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// `--json` of the commands that print state gives the HTTP API's shapes: the same run, read by
/// the CLI and by `cascade serve` over HTTP, is the same JSON.
/// </summary>
public sealed class CliJsonParityTests : IClassFixture<CliJsonParityTests.ServedDemo>
{
    private readonly ServedDemo _demo;

    public CliJsonParityTests(ServedDemo demo) => _demo = demo;

    [Theory]
    [InlineData("bi_import", "20190312")] // ran: inputs met, one attempt
    [InlineData("game_logs", "20190312")] // an external job's run, seen done by its marker
    [InlineData("bi_import", "20190313")] // no run yet: run is null, inputs missing
    public async Task Why_json_is_the_run_details_the_API_gives(string job, string partition)
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "why", job, partition, "--json");
        cli.AssertExitCode(0);

        Assert.Equal(await _demo.GetAsync($"/api/runs/{job}/{partition}"), Normal(cli.StdOut));
    }

    [Fact]
    public async Task History_json_is_the_run_details_the_API_gives_with_every_recorded_change()
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "history", "payments", "2019031205", "--json");
        cli.AssertExitCode(0);

        var api = await _demo.GetAsync("/api/runs/payments/2019031205");
        Assert.Equal(api, Normal(cli.StdOut));
        var history = JsonDocument.Parse(api).RootElement.GetProperty("history");
        Assert.Contains(history.EnumerateArray(), e => e.GetProperty("event").GetString() == "started");
        Assert.Contains(history.EnumerateArray(), e => e.GetProperty("event").GetString() == "succeeded");
    }

    [Fact]
    public async Task Logs_json_is_the_attempt_the_API_lists()
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "logs", "sessions", "20190312", "--json");
        cli.AssertExitCode(0);

        var details = JsonDocument.Parse(await _demo.GetAsync("/api/runs/sessions/20190312")).RootElement;
        var last = details.GetProperty("attempts").EnumerateArray().Last();
        Assert.Equal(Compact(last), Normal(cli.StdOut));
        Assert.Equal("succeeded", last.GetProperty("outcome").GetString());
        Assert.Empty(cli.StdErr); // metadata only: no header line, no output
    }

    [Fact]
    public async Task Logs_json_with_follow_is_refused_with_a_clear_error()
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "logs", "sessions", "20190312", "--json", "--follow");
        cli.AssertExitCode(1);
        Assert.Contains("give one of them", cli.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_dry_run_json_is_the_plan_the_API_gives()
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "cancel", "revenue", "20190312..20190320", "--dry-run", "--json");
        cli.AssertExitCode(0);

        Assert.Equal(
            await _demo.PostAsync("/api/cancel", """{"job": "revenue", "partition": "20190312..20190320", "dry_run": true}"""),
            Normal(cli.StdOut));
    }

    [Fact]
    public async Task Status_json_is_the_runs_the_API_lists()
    {
        var cli = await CascadeCli.RunAsync(_demo.Dir, "status", "--partition", "20190312", "--json");
        cli.AssertExitCode(0);

        var page = JsonDocument.Parse(await _demo.GetAsync("/api/runs?partition=20190312&limit=1000")).RootElement.GetProperty("runs");
        var sorted = page.EnumerateArray().OrderBy(r => r.GetProperty("job").GetString(), StringComparer.Ordinal).Select(Compact);
        var printed = JsonDocument.Parse(cli.StdOut).RootElement.EnumerateArray().OrderBy(r => r.GetProperty("job").GetString(), StringComparer.Ordinal).Select(Compact);
        Assert.Equal(sorted, printed);
    }

    private static string Normal(string json) => Compact(JsonDocument.Parse(json).RootElement);

    /// <summary>The JSON without layout or escaping differences: what the two front doors must agree on.</summary>
    private static string Compact(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The demo pipeline run once (`run --until-idle`), then served by `cascade serve` on 127.0.0.1.</summary>
    public sealed class ServedDemo : IAsyncLifetime, IDisposable
    {
        private readonly TempWorkspace _ws = new();
        private CliProcess? _serve;
        private HttpClient? _http;

        public string Dir => _ws.PathOf("demo");

        public async Task InitializeAsync()
        {
            (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
            (await CascadeCli.RunAsync(Dir, "run", "--until-idle", "-q")).AssertExitCode(0);
            var port = FreePort();
            _serve = CascadeCli.Start(Dir, "serve", "--urls", $"http://127.0.0.1:{port}");
            await _serve.WaitForOutputAsync(o => o.Contains("HTTP API on", StringComparison.Ordinal), "the API to listen", TimeSpan.FromSeconds(30));
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        }

        public async Task<string> GetAsync(string path)
        {
            using var response = await _http!.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
            return Normal(body);
        }

        public async Task<string> PostAsync(string path, string json)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await _http!.PostAsync(path, content);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {body}");
            return Normal(body);
        }

        /// <summary>Stops serve; <see cref="Dispose"/>, called after it, removes the folder.</summary>
        public async Task DisposeAsync()
        {
            if (_serve is not null)
            {
                await _serve.TerminateAsync();
                await _serve.DisposeAsync();
            }
        }

        public void Dispose()
        {
            _http?.Dispose();
            _ws.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
