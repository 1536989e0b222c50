using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Web.Tests.Support;
using Xunit.Abstractions;

namespace Cascade.Web.Tests;

/// <summary>Server-Sent Events of run changes and logs of a running attempt, against a scheduler in the same process.</summary>
public sealed class LiveTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_SSE_client_sees_the_run_change_a_marker_causes_at_once()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        await using var events = await SseClient.ConnectAsync(host.Http, "/api/events");
        var clock = Stopwatch.StartNew();
        var committed = TimeSpan.Zero;
        host.Scheduler!.RunChanged += _ =>
        {
            if (committed == TimeSpan.Zero)
            {
                committed = clock.Elapsed;
            }
        };
        await host.WriteMarkerAsync("extract", "20190312");
        var first = await events.NextAsync(TimeSpan.FromSeconds(10));
        var elapsed = clock.Elapsed;
        output.WriteLine($"marker written -> first change committed: {committed.TotalMilliseconds:0.0} ms, first SSE event: {elapsed.TotalMilliseconds:0.0} ms");
        Assert.Equal("extract", first.Data.GetProperty("job").GetString()); // the marker's own run first
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"the first change took {elapsed.TotalMilliseconds:0} ms");

        // And the chain it set off, in commit order.
        var seen = new List<string>();
        while (!seen.Contains("report succeeded"))
        {
            var e = await events.NextAsync(TimeSpan.FromSeconds(10));
            seen.Add(e.Data.GetProperty("job").GetString() + " " + e.Data.GetProperty("state").GetString());
        }

        Assert.Contains("load running", seen);
        Assert.True(seen.IndexOf("load succeeded") < seen.IndexOf("report running"));
    }

    [Fact]
    public async Task A_marker_written_on_disk_for_an_external_job_appears_as_an_event_run_within_a_bounded_wait()
    {
        // Regression: a run first seen done by its marker (an external job's) is stored without a
        // history line, and the stream, which read only the history, never showed it.
        await using var host = await ApiHost.StartAsync(scheduler: true);
        await using var events = await SseClient.ConnectAsync(host.Http, "/api/events");
        var markers = Path.Combine(host.Dir, "markers");
        File.WriteAllText(Path.Combine(markers, "extract__20190312.done.tmp"), """{"rows": 12}""");
        File.Move(Path.Combine(markers, "extract__20190312.done.tmp"), Path.Combine(markers, "extract__20190312.done"));

        var e = await events.NextAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("run", e.Event);
        Assert.Equal("extract", e.Data.GetProperty("job").GetString());
        Assert.Equal("20190312", e.Data.GetProperty("partition").GetString());
        Assert.Equal(1, e.Data.GetProperty("generation").GetInt32());
        Assert.Equal("succeeded", e.Data.GetProperty("state").GetString());
        Assert.Equal(e.Id, e.Data.GetProperty("id").GetInt64());
        var run = await host.RunAsync("extract", "20190312");
        Assert.Equal(run!.FinishedAt!.Value.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture), e.Data.GetProperty("finished_at").GetString());
        Assert.Equal(JsonValueKind.Null, e.Data.GetProperty("activated_at").ValueKind); // Cascade never ran it
    }

    [Fact]
    public async Task A_client_that_reconnects_with_Last_Event_ID_receives_every_change_it_missed()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        var received = new List<(long Id, string What)>();
        await using (var events = await SseClient.ConnectAsync(host.Http, "/api/events"))
        {
            await host.WriteMarkerAsync("extract", "20190312");
            received.Add(Describe(await events.NextAsync(TimeSpan.FromSeconds(10))));
            received.Add(Describe(await events.NextAsync(TimeSpan.FromSeconds(10))));
        }

        // Disconnected: more changes happen, among them an external job's run seen done.
        await host.WriteMarkerAsync("extract", "20190313");
        await host.WaitForStateAsync("report", "20190313", RunState.Succeeded);
        await host.WaitForStateAsync("report", "20190312", RunState.Succeeded);

        var lastSeen = received[^1].Id;
        var expected = await host.Server.ChangeIdsAfterAsync(lastSeen);
        Assert.True(expected.Count >= 9, $"expected the missed changes, got {expected.Count}");
        await using (var resumed = await SseClient.ConnectAsync(host.Http, "/api/events", lastEventId: lastSeen))
        {
            while (received.Count < 2 + expected.Count)
            {
                received.Add(Describe(await resumed.NextAsync(TimeSpan.FromSeconds(10))));
            }

            Assert.Equal(expected, received.Skip(2).Select(r => r.Id)); // every one, in order, none twice
            Assert.Contains("extract 20190313 succeeded", received.Select(r => r.What));

            // Then live again, from where the replay ended: the next change, not a repeat.
            await host.WriteMarkerAsync("extract", "20190314");
            var next = Describe(await resumed.NextAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("extract 20190314 succeeded", next.What);
            Assert.Equal(expected[^1] + 1, next.Id);
        }

        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_client_resumes_with_Last_Event_ID_across_a_restart_of_the_server()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        long lastSeen;
        await using (var events = await SseClient.ConnectAsync(host.Http, "/api/events"))
        {
            await host.WriteMarkerAsync("extract", "20190312");
            lastSeen = (await events.NextAsync(TimeSpan.FromSeconds(10))).Id;
        }

        await host.WaitForStateAsync("report", "20190312", RunState.Succeeded);
        var expected = await host.Server.ChangeIdsAfterAsync(lastSeen);

        // A new server (as after `cascade serve` is restarted) on the same state: nothing kept in memory.
        await using var restarted = await WebServer.StartAsync(host.Options(token: null) with { Scheduler = null }, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(restarted.Addresses[0]) };
        await using var resumed = await SseClient.ConnectAsync(http, "/api/events", lastEventId: lastSeen);
        var received = new List<long>();
        while (received.Count < expected.Count)
        {
            received.Add((await resumed.NextAsync(TimeSpan.FromSeconds(10))).Id);
        }

        Assert.Equal(expected, received);
    }

    private static (long Id, string What) Describe((long Id, string Event, JsonElement Data) e) =>
        (e.Id, $"{e.Data.GetProperty("job").GetString()} {e.Data.GetProperty("partition").GetString()} {e.Data.GetProperty("state").GetString()}");

    [Fact]
    public async Task Reading_the_log_of_a_running_attempt_shows_its_lines_while_it_runs()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        using (var trigger = await host.PostAsync("/api/runs/slow/20190312/trigger", null))
        {
            Assert.Equal(202, (int)trigger.StatusCode);
        }

        await host.WaitForStateAsync("slow", "20190312", RunState.Running);
        using var response = await host.Http.GetAsync("/api/runs/slow/20190312/logs", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("true", response.Headers.GetValues("X-Cascade-Live").Single());
        await using var stream = await response.Content.ReadAsStreamAsync();
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (!text.ToString().Contains("first line", StringComparison.Ordinal))
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                Assert.True(n > 0, "the stream ended before the first line");
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }

        // The command is still running (it waits for the release file), and the line is here.
        Assert.Equal(RunState.Running, (await host.RunAsync("slow", "20190312"))!.State);
        File.WriteAllText(Path.Combine(host.Dir, "release"), string.Empty);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }

        Assert.Equal("first line\nsecond line\n", text.ToString()); // the stream ended with the attempt
        await host.WaitForStateAsync("slow", "20190312", RunState.Succeeded);
    }

    /// <summary>A minimal EventSource: reads <c>id:</c>/<c>data:</c> blocks from a streamed response.</summary>
    private sealed class SseClient : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private SseClient(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<SseClient> ConnectAsync(HttpClient http, string path, long? lastEventId = null)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (lastEventId is { } id)
            {
                request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var client = new SseClient(response, reader);
            while (await reader.ReadLineAsync() is { Length: > 0 })
            {
                // the preamble (retry, a comment) up to its blank line: the stream is subscribed
            }

            return client;
        }

        public async Task<(long Id, string Event, JsonElement Data)> NextAsync(TimeSpan bound)
        {
            using var cts = new CancellationTokenSource(bound);
            long? id = null;
            string? data = null;
            var name = "message"; // the SSE default when a block has no event field
            while (true)
            {
                var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the stream ended");
                if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
                else if (line.Length == 0 && id is { } i && data is not null)
                {
                    return (i, name, JsonDocument.Parse(data).RootElement.Clone());
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
