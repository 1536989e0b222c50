using System.Net;
using System.Net.Sockets;
using System.Text;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Markers.S3;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// An S3-compatible server that answers wrongly, on 127.0.0.1: what the SDK cannot make sense of is
/// a store error (the marker cannot be read now; a later read or rescan tries again), never an
/// exception of another kind escaping into the scheduler.
/// </summary>
public sealed class S3FaultTests : IAsyncDisposable
{
    private readonly HttpListener _server = new();
    private readonly string _url;
    private readonly Task _serving;

    public S3FaultTests()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
        }

        _server.Prefixes.Add(_url);
        _server.Start();
        _serving = ServeAsync();
    }

    // Every GET answers 200 with an ETag that is not hex (s3rver was seen to send one while an object was replaced).
    private async Task ServeAsync()
    {
        while (_server.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _server.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            var body = Encoding.UTF8.GetBytes("{}");
            context.Response.StatusCode = 200;
            context.Response.AddHeader("ETag", "\"abc\"");
            context.Response.AddHeader("Last-Modified", "Tue, 12 Mar 2019 06:00:00 GMT");
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }

    [Fact]
    public async Task Regression_11_a_marker_whose_etag_the_sdk_cannot_parse_is_a_store_error_not_a_crash()
    {
        var settings = new MarkerSettings.S3("bucket", "done/", _url.TrimEnd('/'), "us-east-1", PathStyle: true);
        // The store's client reads the standard chain; the same values the S3 tests set (this server checks none).
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Support.S3Server.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Support.S3Server.AccessKey);
        using var store = new S3MarkerStore(S3Clients.Create(settings), settings, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);
        var key = new RunKey("extract", Partition.Parse("20190312"));

        var stored = await store.ReadStoredAsync(key, CancellationToken.None);

        Assert.NotNull(stored);
        Assert.NotNull(stored.NotAMarker);
        Assert.Contains("cannot be read", stored.NotAMarker, StringComparison.Ordinal);
        var read = await Assert.ThrowsAsync<IOException>(async () => await store.ReadAsync(key, CancellationToken.None));
        Assert.Contains("cannot be read", read.Message, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _server.Stop();
        _server.Close();
        await _serving;
    }
}
