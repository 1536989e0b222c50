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
        var tmp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            var json = body.ToJson();
            if (json.Length == 0 && TryCreateEmpty(path))
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);

            await File.WriteAllTextAsync(tmp, json, cancellationToken);
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // Nothing half-written stays behind: a marker is there whole or not at all.
            TryDelete(tmp);
            if (e is OperationCanceledException)
            {
                throw;
            }

            throw new IOException($"cannot write marker {path}: {Files.IoErrors.Describe(e)}", e);
        }
    }

    /// <summary>
    /// An empty marker is complete the moment it exists: one exclusive create, no temp file. False
    /// when something is already at the path (it may be a FIFO or a link: never opened, replaced by a rename).
    /// </summary>
    private static bool TryCreateEmpty(string path)
    {
        if (Files.UnixFile.IsSupported)
        {
            var errno = Files.UnixFile.CreateEmpty(path);
            if (errno == Files.UnixFile.ENOENT)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                errno = Files.UnixFile.CreateEmpty(path);
            }

            return errno switch
            {
                0 => true,
                Files.UnixFile.EEXIST => false,
                _ => throw new IOException(Files.UnixFile.Describe(errno), errno), // HResult = errno, as .NET sets it on Unix
            };
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
            }

            return true;
        }
        catch (IOException) when (Path.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: the write already failed, and that is what the caller hears about
        }
    }

    /// <summary>Superseded markers live here, under the root, out of every scan and watch.</summary>
    public const string SupersededFolder = ".superseded";

    public ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken)
    {
        var stored = MarkerFile.Read(Locate(key));
        if (stored?.NotAMarker is { } reason)
        {
            WarnOnce(Layout.Format(key), $"'{Layout.Format(key)}' {reason}; ignored");
            return ValueTask.FromResult<MarkerBody?>(null);
        }

        return ValueTask.FromResult(stored?.Body);
    }

    /// <summary>See <see cref="MarkerFile.Read"/>: only regular files are markers, at most 64 KiB + 1 byte is read.</summary>
    public ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(MarkerFile.Read(Locate(key)));

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

        if (Files.UnixFile.IsSupported)
        {
            // One statx per marker, relative to its folder, the type from the folder itself (ADR 8).
            var walk = Files.UnixDirectory.Walk(
                Root,
                ".done",
                enter: folder => Path.GetFileName(folder.AsSpan()) is not SupersededFolder,
                skippedLink: path => WarnOnce(path, $"not following '{path}': it is a symbolic link to a folder, and links in the marker folder are not followed"));
            foreach (var e in walk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Only a regular file may be taken as an empty marker; anything else is read, and refused.
                yield return new MarkerEntry(e.RelativePath, e.Kind == Files.FileKind.Regular ? e.Size : null) { WrittenAt = e.Kind == Files.FileKind.Regular ? e.Modified : null };
            }

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
                return new MarkerEntry(directory + e.FileName.ToString(), SizeOfRegular(ref e)) { WrittenAt = e.LastWriteTimeUtc };
            },
            options)
        {
            // Folders too: a folder (or link, FIFO, device) named like a marker gets a warning when it is read.
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.EndsWith(".done", StringComparison.Ordinal),
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => ShouldRecurse(ref e),
        };
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }

        await Task.CompletedTask;
    }

    /// <summary>
    /// The size of a regular file, else null (so the entry is read, and refused, rather than taken
    /// as an empty marker): a link, or a 0-byte entry that may be a FIFO, socket or device.
    /// </summary>
    private static long? SizeOfRegular(ref System.IO.Enumeration.FileSystemEntry e)
    {
        if (e.IsDirectory || (e.Attributes & FileAttributes.ReparsePoint) != 0)
        {
            return null;
        }

        var length = e.Length;
        if (length > 0 || !Files.UnixFile.IsSupported)
        {
            return length;
        }

        return Files.UnixFile.LStat(e.ToFullPath(), out _) is { Kind: Files.FileKind.Regular } ? 0 : null;
    }

    /// <summary>Real sub-folders only: a link to a folder is never followed (a loop would walk 40 levels deep on every scan).</summary>
    private bool ShouldRecurse(ref System.IO.Enumeration.FileSystemEntry e)
    {
        if (e.FileName.SequenceEqual(SupersededFolder))
        {
            return false;
        }

        if ((e.Attributes & FileAttributes.ReparsePoint) == 0)
        {
            return true;
        }

        var path = Relative(e.ToFullPath());
        WarnOnce(path, $"not following '{path}': it is a symbolic link to a folder, and links in the marker folder are not followed");
        return false;
    }

    // Entries already warned about: one warning per bad entry for the life of the process, not one per scan.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _warned = new(StringComparer.Ordinal);

    private void WarnOnce(string path, string message)
    {
        if (_warned.TryAdd(path, 0))
        {
            _logger.LogWarning("{Message}", message);
        }
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

            if (Directory.Exists(e.FullPath))
            {
                // A folder moved in (layout with sub-folders) brings markers without events of their own.
                channel.Writer.TryWrite(MarkerEntry.Rescan);
            }
            else if (e.FullPath.EndsWith(".done", StringComparison.Ordinal))
            {
                _ = ForwardAfterSettleAsync(channel.Writer, e.FullPath, cancellationToken);
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
