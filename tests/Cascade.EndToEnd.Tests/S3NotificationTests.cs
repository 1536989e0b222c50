using System.Net;
using System.Net.Sockets;
using System.Text;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 11, the push path: a chain whose markers live only in a bucket (s3rver on 127.0.0.1), run by
/// a real <c>cascade run</c> with its API on 127.0.0.1 and a rescan interval of an hour. The upstream
/// marker is written to the bucket and its S3 event notification posted to <c>POST /api/events/s3</c>
/// (twice, as S3 may deliver it): the downstream job starts from the notice, long before any rescan,
/// once, and writes its own marker to the bucket.
/// </summary>
public sealed class S3NotificationTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_chain_runs_from_pushed_notifications_of_markers_in_the_bucket_well_before_the_rescan()
    {
        using var bucket = await S3Bucket.CreateAsync(nameof(A_chain_runs_from_pushed_notifications_of_markers_in_the_bucket_well_before_the_rescan));
        if (bucket is null)
        {
            return;
        }

        _ws.Write("cascade.yaml", $$"""
            markers:
              s3: { bucket: {{bucket.Name}}, prefix: done/, endpoint: "{{bucket.Url}}", region: us-east-1 }
              rescan_interval: 1h
            jobs:
              player_entry:
                run: external
              sessions:
                after: [player_entry]
                run: { command: [sh, -c, 'echo ran >> ran.txt'] }
              revenue:
                after: [sessions]
                run: { command: [sh, -c, 'echo ran >> revenue.txt'] }
            """);
        var port = FreePort();
        await using var run = CascadeCli.Start(_ws.Root, S3Bucket.Environment, "run", "--urls", $"http://127.0.0.1:{port}");
        await run.WaitForOutputAsync(o => o.Contains("HTTP API on", StringComparison.Ordinal) && o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready and the API to listen", TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        await bucket.PutAsync("done/player_entry__20190312.done", string.Empty);
        var notification = """{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"BUCKET"},"object":{"key":"done/player_entry__20190312.done","size":0,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}""".Replace("BUCKET", bucket.Name, StringComparison.Ordinal);
        for (var i = 0; i < 2; i++)
        {
            using var body = new StringContent(notification, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("/api/events/s3", body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // The whole chain, from the one notice: sessions from it, revenue from sessions' exit.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await bucket.GetAsync("done/revenue__20190312.done") is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"revenue did not run within 30 s of the notification (the rescan is an hour away)\n{run.StdOut}\n{run.StdErr}");
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        Assert.Equal("ran\n", File.ReadAllText(_ws.PathOf("ran.txt")));
        Assert.Equal("ran\n", File.ReadAllText(_ws.PathOf("revenue.txt")));
        Assert.Equal(["done/player_entry__20190312.done", "done/revenue__20190312.done", "done/sessions__20190312.done"], await bucket.KeysAsync());
        await run.TerminateAsync();
        (await run.WaitForExitAsync(TimeSpan.FromSeconds(30))).AssertExitCode(0);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
