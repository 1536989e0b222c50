using System.Text;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Engine.Markers;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// What every marker store does, whatever holds the markers (STYLE: one suite per port, inherited
/// by each adapter's tests). An adapter's tests give a fresh empty store and a way to put and get
/// raw bytes at a path relative to the store, as a producer or a person would.
/// </summary>
public abstract class MarkerStoreContract
{
    private static readonly RunKey Sessions = new("sessions", Partition.Parse("20190312"));

    /// <summary>A new, empty store; null when the store's server is not there (the test then did not run, outside CI).</summary>
    protected abstract Task<IMarkerStore?> CreateAsync(MarkerLayout layout, string test);

    /// <summary>Puts bytes at a path relative to the store's root, bypassing the store (a producer's own write).</summary>
    protected abstract Task PutRawAsync(string relativePath, byte[] body);

    /// <summary>The bytes at a path relative to the store's root, or null.</summary>
    protected abstract Task<byte[]?> GetRawAsync(string relativePath);

    private static async Task<List<MarkerEntry>> ScanAsync(IMarkerStore store)
    {
        var entries = new List<MarkerEntry>();
        await foreach (var e in store.ScanAsync(CancellationToken.None))
        {
            entries.Add(e);
        }

        return entries;
    }

    [Fact]
    public async Task A_written_marker_reads_back_with_its_params_and_a_missing_one_is_null()
    {
        if (await CreateAsync(MarkerLayout.Parse("{partition}/{job}.done"), nameof(A_written_marker_reads_back_with_its_params_and_a_missing_one_is_null)) is not { } store)
        {
            return;
        }

        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"params": {"a": "1"}, "rows": 2}"""), CancellationToken.None);

        var body = await store.ReadAsync(Sessions, CancellationToken.None);
        Assert.Equal("1", body!.Params["a"]);
        Assert.Equal("2", body.Meta["rows"].GetRawText());
        Assert.Equal("""{"rows":2,"params":{"a":"1"}}""", Encoding.UTF8.GetString((await GetRawAsync("20190312/sessions.done"))!));
        Assert.Null(await store.ReadAsync(new RunKey("other", Sessions.Partition), CancellationToken.None));
        Assert.Null(await store.ReadStoredAsync(new RunKey("other", Sessions.Partition), CancellationToken.None));
        Assert.EndsWith("20190312/sessions.done", store.Locate(Sessions), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_marker_is_empty_and_says_when_it_was_written()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(An_empty_marker_is_empty_and_says_when_it_was_written)) is not { } store)
        {
            return;
        }

        var before = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() - 2);
        await store.WriteAsync(Sessions, MarkerBody.Empty, CancellationToken.None);

        var stored = await store.ReadStoredAsync(Sessions, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Null(stored.NotAMarker);
        Assert.True(stored.Body.Params.Count == 0 && stored.Body.Meta.Count == 0 && stored.Body.Warning is null);
        Assert.InRange(stored.WrittenAt, before, TimeProvider.System.GetUtcNow().AddSeconds(2));
        Assert.Equal([0], (await ScanAsync(store)).Select(e => e.Size));
    }

    [Fact]
    public async Task Writing_again_replaces_the_body_whole()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(Writing_again_replaces_the_body_whole)) is not { } store)
        {
            return;
        }

        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"params": {"v": "old", "extra": "x"}}"""), CancellationToken.None);
        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"params": {"v": "new"}}"""), CancellationToken.None);

        var body = await store.ReadAsync(Sessions, CancellationToken.None);
        Assert.Equal(new Dictionary<string, string> { ["v"] = "new" }, body!.Params);
    }

    [Fact]
    public async Task A_scan_lists_every_marker_with_its_size_and_nothing_else()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(A_scan_lists_every_marker_with_its_size_and_nothing_else)) is not { } store)
        {
            return;
        }

        await PutRawAsync("a__20190312.done", []);
        await PutRawAsync("x/b__20190312.done", "{}"u8.ToArray());
        await PutRawAsync("ignored.txt", []);
        await PutRawAsync("a__20190312.done.tmp", []);

        var entries = await ScanAsync(store);

        Assert.Equal(["a__20190312.done:0", "x/b__20190312.done:2"], entries.Select(e => $"{e.RelativePath}:{e.Size}").Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.NotNull(e.WrittenAt));
    }

    [Fact]
    public async Task A_producers_marker_reads_as_the_producer_wrote_it()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(A_producers_marker_reads_as_the_producer_wrote_it)) is not { } store)
        {
            return;
        }

        await PutRawAsync("sessions__20190312.done", """{"params": {"country": "DE"}, "rows": 12}"""u8.ToArray());

        var body = await store.ReadAsync(Sessions, CancellationToken.None);
        Assert.Equal("DE", body!.Params["country"]);
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_warning_not_a_failure_and_exactly_64_KiB_is_read()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(A_body_over_64_KiB_is_a_warning_not_a_failure_and_exactly_64_KiB_is_read)) is not { } store)
        {
            return;
        }

        await PutRawAsync("a__20190312.done", Encoding.ASCII.GetBytes(new string(' ', 70_000)));
        var exact = """{"params": {"p": "x"}, "pad": ""}""";
        await PutRawAsync("b__20190312.done", Encoding.ASCII.GetBytes(exact.Insert(exact.Length - 2, new string('y', MarkerBody.MaxBytes - exact.Length))));

        var big = await store.ReadAsync(new RunKey("a", Sessions.Partition), CancellationToken.None);
        var limit = await store.ReadAsync(new RunKey("b", Sessions.Partition), CancellationToken.None);

        Assert.Contains("70000 bytes, over the 65536 byte limit", big!.Warning, StringComparison.Ordinal);
        Assert.Null(limit!.Warning);
        Assert.Equal("x", limit.Params["p"]);
    }

    [Fact]
    public async Task A_body_that_is_not_json_still_counts_as_a_marker_with_a_warning()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(A_body_that_is_not_json_still_counts_as_a_marker_with_a_warning)) is not { } store)
        {
            return;
        }

        await PutRawAsync("sessions__20190312.done", "{\"params\": {\"a\": "u8.ToArray());

        var body = await store.ReadAsync(Sessions, CancellationToken.None);
        Assert.NotNull(body);
        Assert.True(body.IsUnparsable);
        Assert.Empty(body.Params);
    }

    [Fact]
    public async Task Superseding_moves_the_marker_aside_keeping_its_body_and_out_of_every_scan()
    {
        if (await CreateAsync(MarkerLayout.Parse("{partition}/{job}.done"), nameof(Superseding_moves_the_marker_aside_keeping_its_body_and_out_of_every_scan)) is not { } store)
        {
            return;
        }

        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"params": {"g": "1"}}"""), CancellationToken.None);

        Assert.True(await store.SupersedeAsync(Sessions, 1, CancellationToken.None));

        Assert.Null(await store.ReadAsync(Sessions, CancellationToken.None));
        Assert.Empty(await ScanAsync(store));
        Assert.Equal("""{"params":{"g":"1"}}""", Encoding.UTF8.GetString((await GetRawAsync(".superseded/g1/20190312/sessions.done"))!));
        Assert.False(await store.SupersedeAsync(Sessions, 2, CancellationToken.None));

        // The replay's new marker is a marker again; the superseded one stays aside.
        await store.WriteAsync(Sessions, MarkerBody.Empty, CancellationToken.None);
        Assert.Equal(["20190312/sessions.done"], (await ScanAsync(store)).Select(e => e.RelativePath));
    }

    [Fact]
    public async Task Superseding_the_same_generation_twice_keeps_the_later_body()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(Superseding_the_same_generation_twice_keeps_the_later_body)) is not { } store)
        {
            return;
        }

        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"n": 1}"""), CancellationToken.None);
        await store.SupersedeAsync(Sessions, 1, CancellationToken.None);
        await store.WriteAsync(Sessions, MarkerBody.Parse("""{"n": 2}"""), CancellationToken.None);
        Assert.True(await store.SupersedeAsync(Sessions, 1, CancellationToken.None));

        Assert.Equal("""{"n":2}""", Encoding.UTF8.GetString((await GetRawAsync(".superseded/g1/sessions__20190312.done"))!));
    }

    [Fact]
    public async Task Many_markers_are_all_listed_once()
    {
        if (await CreateAsync(MarkerLayout.Default, nameof(Many_markers_are_all_listed_once)) is not { } store)
        {
            return;
        }

        // More than one page of a bucket listing (1,000 keys).
        var days = Enumerable.Range(0, 1100).Select(i => new DateOnly(2019, 1, 1).AddDays(i)).ToList();
        await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (d, ct) =>
            await store.WriteAsync(new RunKey("a", Partition.Day(d)), MarkerBody.Empty, ct));

        var listed = (await ScanAsync(store)).Select(e => e.RelativePath).ToList();

        Assert.Equal(1100, listed.Count);
        Assert.Equal(1100, listed.Distinct(StringComparer.Ordinal).Count());
    }
}
