using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Folder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Markers;

/// <summary>The marker-store suite on a folder, and what only a folder does (temp files, renames).</summary>
public sealed class FolderMarkerStoreTests : MarkerStoreContract, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cascade-markers-" + Guid.NewGuid().ToString("N"));

    protected override Task<IMarkerStore?> CreateAsync(MarkerLayout layout, string test) =>
        Task.FromResult<IMarkerStore?>(new FolderMarkerStore(_root, layout, TimeProvider.System, NullLogger.Instance));

    protected override async Task PutRawAsync(string relativePath, byte[] body)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, body);
    }

    protected override async Task<byte[]?> GetRawAsync(string relativePath)
    {
        var path = Path.Combine(_root, relativePath);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path) : null;
    }

    [Fact]
    public async Task A_written_marker_leaves_no_temp_file()
    {
        var store = new FolderMarkerStore(_root, MarkerLayout.Parse("{partition}/{job}.done"), TimeProvider.System, NullLogger.Instance);
        var key = new RunKey("sessions", Partition.Parse("20190312"));

        await store.WriteAsync(key, MarkerBody.Parse("""{"params": {"a": "1"}, "rows": 2}"""), CancellationToken.None);
        await store.WriteAsync(key, MarkerBody.Empty, CancellationToken.None);

        Assert.Equal(["20190312/sessions.done"], Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_root, f)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
