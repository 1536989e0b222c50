using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Markers.Folder;

/// <summary>
/// Markers as files in a folder. Writes go to a temp file renamed into place (atomic on one file
/// system). The watcher only forwards paths; a Created event (a producer writing the marker in
/// place) is forwarded after a short settle delay so its body is complete, a Renamed event at once.
/// </summary>
public sealed class FolderMarkerStore : IMarkerStore
{
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(50);
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public FolderMarkerStore(string root, MarkerLayout layout, TimeProvider time, ILogger logger)
    {
        Root = Path.GetFullPath(root);
        Layout = layout;
        _time = time;
        _logger = logger;
    }

    public string Root { get; }

    public MarkerLayout Layout { get; }

    public string Locate(RunKey key) => Path.Combine(Root, Layout.Format(key));

    // Markers this instance wrote: the scheduler already knows them, so their notices are dropped.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _ownWrites = new(StringComparer.Ordinal);

    public ValueTask WriteKnownAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken)
    {
        _ownWrites[Layout.Format(key)] = 0;
        return WriteAsync(key, body, cancellationToken);
    }

    public async ValueTask WriteAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken)
    {
        var path = Locate(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var json = body.ToJson();
        if (json.Length == 0)
        {
            // An empty marker is complete the moment it exists: one create, no temp file.
            await using (File.Create(path, 1, FileOptions.None))
            {
            }

            return;
        }

        var tmp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllTextAsync(tmp, json, cancellationToken);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Superseded markers live here, under the root, out of every scan and watch.</summary>
    public const string SupersededFolder = ".superseded";

    public async ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken) =>
        (await ReadStoredAsync(key, cancellationToken))?.Body;

    public async ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken)
    {
        var path = Locate(key);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return null;
            }

            var written = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
            if (info.Length == 0)
            {
                return new StoredMarker(MarkerBody.Empty, written);
            }

            if (info.Length > MarkerBody.MaxBytes)
            {
                return new StoredMarker(new MarkerBody { Warning = $"marker body is {info.Length} bytes, over the {MarkerBody.MaxBytes} byte limit; ignored" }, written);
            }

            return new StoredMarker(MarkerBody.Parse(await File.ReadAllBytesAsync(path, cancellationToken)), written);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken)
    {
        var path = Locate(key);
        if (!File.Exists(path))
        {
            return ValueTask.FromResult(false);
        }

        var target = Path.Combine(Root, SupersededFolder, $"g{generation}", Layout.Format(key));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Move(path, target, overwrite: true);
            return ValueTask.FromResult(true);
        }
        catch (FileNotFoundException)
        {
            return ValueTask.FromResult(false);
        }
    }

    private static bool IsSuperseded(string relativePath) =>
        relativePath.StartsWith(SupersededFolder + "/", StringComparison.Ordinal);

    public async IAsyncEnumerable<MarkerEntry> ScanAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        // Straight from the directory entries: no FileInfo and no path arithmetic per file.
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        var rootLength = Root.Length + (Root.EndsWith('/') ? 0 : 1);
        var entries = new System.IO.Enumeration.FileSystemEnumerable<MarkerEntry>(
            Root,
            (ref System.IO.Enumeration.FileSystemEntry e) =>
            {
                var directory = e.Directory.Length > rootLength ? e.Directory[rootLength..].ToString().Replace('\\', '/') + "/" : string.Empty;
                return new MarkerEntry(directory + e.FileName.ToString(), e.Length) { WrittenAt = e.LastWriteTimeUtc };
            },
            options)
        {
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => !e.IsDirectory && e.FileName.EndsWith(".done", StringComparison.Ordinal),
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => !e.FileName.SequenceEqual(SupersededFolder),
        };
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }

        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<MarkerEntry> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        var channel = Channel.CreateUnbounded<MarkerEntry>(new UnboundedChannelOptions { SingleReader = true });
        using var watcher = new FileSystemWatcher(Root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName,
            InternalBufferSize = 64 * 1024,
        };

        watcher.Renamed += (_, e) =>
        {
            if (e.FullPath.EndsWith(".done", StringComparison.Ordinal) && !IsSuperseded(Relative(e.FullPath)) && !_ownWrites.TryRemove(Relative(e.FullPath), out byte _))
            {
                channel.Writer.TryWrite(new MarkerEntry(Relative(e.FullPath), null));
            }
        };
        watcher.Created += (_, e) =>
        {
            if (IsSuperseded(Relative(e.FullPath)) || _ownWrites.TryRemove(Relative(e.FullPath), out byte _))
            {
                return;
            }

            if (e.FullPath.EndsWith(".done", StringComparison.Ordinal))
            {
                _ = ForwardAfterSettleAsync(channel.Writer, e.FullPath, cancellationToken);
            }
            else if (Directory.Exists(e.FullPath))
            {
                // A folder moved in (layout with sub-folders) brings markers without events of their own.
                channel.Writer.TryWrite(MarkerEntry.Rescan);
            }
        };
        watcher.Error += (_, e) =>
        {
            _logger.LogWarning("marker folder watcher lost events ({Reason}); rescanning", e.GetException().Message);
            channel.Writer.TryWrite(MarkerEntry.Rescan);
        };
        watcher.EnableRaisingEvents = true;

        while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (channel.Reader.TryRead(out var entry))
            {
                yield return entry;
            }
        }
    }

    private async Task ForwardAfterSettleAsync(ChannelWriter<MarkerEntry> writer, string fullPath, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(SettleDelay, _time, cancellationToken);
            writer.TryWrite(new MarkerEntry(Relative(fullPath), null));
        }
        catch (OperationCanceledException)
        {
            // shutting down
        }
    }

    private string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');
}
