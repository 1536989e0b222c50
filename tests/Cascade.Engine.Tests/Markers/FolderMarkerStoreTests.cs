using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Engine.Markers.Folder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Markers;

public sealed class FolderMarkerStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cascade-markers-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_written_marker_reads_back_and_leaves_no_temp_file()
    {
        var store = new FolderMarkerStore(_root, MarkerLayout.Parse("{partition}/{job}.done"), TimeProvider.System, NullLogger.Instance);
        var key = new RunKey("sessions", Partition.Parse("20190312"));

        await store.WriteAsync(key, MarkerBody.Parse("""{"params": {"a": "1"}, "rows": 2}"""), CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(_root, "20190312", "sessions.done")));
        Assert.Equal(["20190312/sessions.done"], Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_root, f)));
        var body = await store.ReadAsync(key, CancellationToken.None);
        Assert.Equal("1", body!.Params["a"]);
        Assert.Null(await store.ReadAsync(new RunKey("other", key.Partition), CancellationToken.None));
    }

    [Fact]
    public async Task A_scan_lists_every_marker_in_sub_folders_with_its_size()
    {
        var store = new FolderMarkerStore(_root, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);
        Directory.CreateDirectory(Path.Combine(_root, "x"));
        await File.WriteAllTextAsync(Path.Combine(_root, "a__20190312.done"), "");
        await File.WriteAllTextAsync(Path.Combine(_root, "x", "b__20190312.done"), "{}");
        await File.WriteAllTextAsync(Path.Combine(_root, "ignored.txt"), "");

        var entries = new List<Cascade.Engine.Markers.MarkerEntry>();
        await foreach (var e in store.ScanAsync(CancellationToken.None))
        {
            entries.Add(e);
        }

        Assert.Equal(["a__20190312.done:0", "x/b__20190312.done:2"], entries.Select(e => $"{e.RelativePath}:{e.Size}").Order());
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_warning_not_a_failure()
    {
        var store = new FolderMarkerStore(_root, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);
        Directory.CreateDirectory(_root);
        await File.WriteAllTextAsync(Path.Combine(_root, "a__20190312.done"), new string(' ', 70_000));

        var body = await store.ReadAsync(new RunKey("a", Partition.Parse("20190312")), CancellationToken.None);

        Assert.Contains("over the 65536 byte limit", body!.Warning, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
