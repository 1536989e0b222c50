using System.Net;
using System.Net.Sockets;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.S3;
using Cascade.Engine.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// The marker-store suite on an S3-compatible server on 127.0.0.1 (s3rver, started by
/// scripts/test.sh), and what only a bucket does: incremental listings, notices from outside,
/// ETags, a server that is down. Each test has a bucket of its own; markers live under <c>done/</c>.
/// </summary>
public sealed class S3MarkerStoreTests : MarkerStoreContract, IDisposable
{
    private readonly List<S3MarkerStore> _stores = [];
    private string _url = string.Empty;
    private MarkerSettings.S3 _settings = null!;

    protected override async Task<IMarkerStore?> CreateAsync(MarkerLayout layout, string test) => await NewStoreAsync(layout, test);

    private async Task<S3MarkerStore?> NewStoreAsync(MarkerLayout layout, string test, TimeProvider? time = null, IEnumerable<string>? jobs = null)
    {
        if (S3Server.Require(test) is not { } url)
        {
            return null;
        }

        _url = url;
        _settings = await S3Server.NewBucketAsync(url);
        var store = new S3MarkerStore(S3Clients.Create(_settings), _settings, layout, time ?? TimeProvider.System, NullLogger.Instance, jobs: jobs);
        _stores.Add(store);
        return store;
    }

    protected override Task PutRawAsync(string relativePath, byte[] body) => S3Server.PutAsync(_url, _settings.Bucket, _settings.Prefix + relativePath, body);

    protected override Task<byte[]?> GetRawAsync(string relativePath) => S3Server.GetAsync(_url, _settings.Bucket, _settings.Prefix + relativePath);

    private static async Task<List<string>> ScanAsync(IMarkerStore store)
    {
        var paths = new List<string>();
        await foreach (var e in store.ScanAsync(CancellationToken.None))
        {
            paths.Add(e.RelativePath);
        }

        return paths;
    }

    private static async Task<List<string>> RescanAsync(IMarkerStore store)
    {
        var paths = new List<string>();
        await foreach (var e in store.RescanAsync(CancellationToken.None))
        {
            paths.Add(e.RelativePath);
        }

        return paths;
    }

    [Fact]
    public async Task Markers_live_under_the_prefix_and_the_location_is_an_s3_url()
    {
        if (await NewStoreAsync(MarkerLayout.Default, nameof(Markers_live_under_the_prefix_and_the_location_is_an_s3_url)) is not { } store)
        {
            return;
        }

        var key = new RunKey("sessions", Partition.Parse("2019031205"));
        await store.WriteAsync(key, MarkerBody.Empty, CancellationToken.None);
        await S3Server.PutAsync(_url, _settings.Bucket, "elsewhere/sessions__20190312.done", []);

        Assert.Equal($"s3://{_settings.Bucket}/done/sessions__2019031205.done", store.Locate(key));
        Assert.Equal(["done/sessions__2019031205.done", "elsewhere/sessions__20190312.done"], (await S3Server.KeysAsync(_url, _settings.Bucket)).Order(StringComparer.Ordinal));
        Assert.Equal(["sessions__2019031205.done"], await ScanAsync(store));
    }

    [Fact]
    public async Task A_read_and_a_listing_carry_the_objects_etag_and_last_modified_time()
    {
        if (await NewStoreAsync(MarkerLayout.Default, nameof(A_read_and_a_listing_carry_the_objects_etag_and_last_modified_time)) is not { } store)
        {
            return;
        }

        var key = new RunKey("a", Partition.Parse("20190312"));
        await store.WriteAsync(key, MarkerBody.Parse("""{"rows": 1}"""), CancellationToken.None);

        var stored = await store.ReadStoredAsync(key, CancellationToken.None);
        MarkerEntry listed = default;
        await foreach (var e in store.ScanAsync(CancellationToken.None))
        {
            listed = e;
        }

        Assert.False(string.IsNullOrEmpty(stored!.ETag));
        Assert.Equal(stored.ETag, listed.ETag);
        Assert.Equal(stored.WrittenAt, listed.WrittenAt);
        Assert.Equal(TimeSpan.Zero, stored.WrittenAt.Offset);
    }

    [Fact]
    public async Task A_rescan_asks_only_for_recent_partitions_and_every_tenth_is_full()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2019, 3, 20, 6, 0, 0, TimeSpan.Zero));
        if (await NewStoreAsync(MarkerLayout.Default, nameof(A_rescan_asks_only_for_recent_partitions_and_every_tenth_is_full), time, jobs: ["a", "b"]) is not { } store)
        {
            return;
        }

        foreach (var (job, partition) in new[] { ("a", "20190301"), ("a", "20190319"), ("b", "2019031323"), ("b", "2019031400"), ("c", "20190319") })
        {
            await store.WriteAsync(new RunKey(job, Partition.Parse(partition)), MarkerBody.Empty, CancellationToken.None);
        }

        var first = await ScanAsync(store);
        var second = await RescanAsync(store);
        for (var i = 2; i < 10; i++)
        {
            await RescanAsync(store);
        }

        var tenth = await RescanAsync(store);

        Assert.Equal(5, first.Count);
        // Seven days back from the 20th: from the 13th on, per job; c (not in the pipeline) only in full ones.
        Assert.Equal(["a__20190319.done", "b__2019031323.done", "b__2019031400.done"], second.Order(StringComparer.Ordinal));
        Assert.Equal(5, tenth.Count);
        Assert.False(store.LastScanWasIncremental);
    }

    [Fact]
    public async Task A_partition_first_layout_lists_recent_partitions_in_one_range()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2019, 3, 20, 6, 0, 0, TimeSpan.Zero));
        if (await NewStoreAsync(MarkerLayout.Parse("p/{partition}/{job}.done"), nameof(A_partition_first_layout_lists_recent_partitions_in_one_range), time) is not { } store)
        {
            return;
        }

        foreach (var (job, partition) in new[] { ("a", "20190312"), ("a", "20190313"), ("b", "2019031223"), ("b", "2019031300"), ("z", "20190320") })
        {
            await store.WriteAsync(new RunKey(job, Partition.Parse(partition)), MarkerBody.Empty, CancellationToken.None);
        }

        var incremental = await RescanAsync(store);

        Assert.True(store.LastScanWasIncremental);
        Assert.Equal(["p/20190313/a.done", "p/2019031300/b.done", "p/20190320/z.done"], incremental);
    }

    [Fact]
    public async Task Notices_posted_from_outside_are_what_the_watch_yields()
    {
        if (await NewStoreAsync(MarkerLayout.Default, nameof(Notices_posted_from_outside_are_what_the_watch_yields)) is not { } store)
        {
            return;
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<MarkerEntry>();
        var watch = Task.Run(async () =>
        {
            await foreach (var e in store.WatchAsync(cts.Token))
            {
                seen.Add(e);
                if (seen.Count == 2)
                {
                    return;
                }
            }
        });

        Assert.Equal("a__20190312.done", store.RelativePath(_settings.Bucket, "done/a__20190312.done"));
        Assert.Null(store.RelativePath("other-bucket", "done/a__20190312.done"));
        Assert.Null(store.RelativePath(_settings.Bucket, "elsewhere/a__20190312.done"));
        Assert.Null(store.RelativePath(_settings.Bucket, "done/.superseded/g1/a__20190312.done"));
        Assert.Null(store.RelativePath(_settings.Bucket, "done/a__20190312.tmp"));
        store.Notices.Post(store.RelativePath(_settings.Bucket, "done/a__20190312.done")!, "\"etag\"");
        store.Notices.PostRescan();
        await watch;

        Assert.Equal("a__20190312.done", seen[0].RelativePath);
        Assert.Equal("\"etag\"", seen[0].ETag);
        Assert.True(seen[1].IsRescan);
    }

    [Fact]
    public async Task A_bucket_that_is_down_is_a_clear_error_a_refused_read_and_never_an_empty_marker()
    {
        if (S3Server.Require(nameof(A_bucket_that_is_down_is_a_clear_error_a_refused_read_and_never_an_empty_marker)) is null)
        {
            return;
        }

        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var settings = new MarkerSettings.S3("down", "done/", $"http://127.0.0.1:{port}", "us-east-1", true);
        var config = S3Clients.Create(settings);
        using var store = new S3MarkerStore(config, settings, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);
        var key = new RunKey("a", Partition.Parse("20190312"));

        var scan = await Assert.ThrowsAsync<IOException>(async () => await ScanAsync(store));
        var write = await Assert.ThrowsAsync<IOException>(async () => await store.WriteAsync(key, MarkerBody.Empty, CancellationToken.None));
        var stored = await store.ReadStoredAsync(key, CancellationToken.None);
        await Assert.ThrowsAsync<IOException>(async () => await store.ReadAsync(key, CancellationToken.None));

        Assert.StartsWith("cannot list the markers in s3://down/done/: ", scan.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", scan.Message, StringComparison.Ordinal);
        Assert.StartsWith("cannot write marker s3://down/done/a__20190312.done: ", write.Message, StringComparison.Ordinal);
        Assert.StartsWith("cannot be read (", stored!.NotAMarker, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_bucket_names_the_bucket_and_the_error_code()
    {
        if (S3Server.Require(nameof(A_missing_bucket_names_the_bucket_and_the_error_code)) is not { } url)
        {
            return;
        }

        var settings = new MarkerSettings.S3("no-such-bucket-here", "", url, "us-east-1", true);
        using var store = new S3MarkerStore(S3Clients.Create(settings), settings, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);

        var e = await Assert.ThrowsAsync<IOException>(async () => await ScanAsync(store));

        Assert.Equal("cannot list the markers in s3://no-such-bucket-here/: NoSuchBucket: The specified bucket does not exist", e.Message);
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
