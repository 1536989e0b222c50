using Cascade.Core.Markers;
using Cascade.Engine.Files;

namespace Cascade.Engine.Markers.Folder;

/// <summary>
/// Reads one marker file without trusting it: only a regular file is a marker (a symbolic link is
/// not followed, a FIFO or device is never opened for a blocking read), and at most
/// <see cref="MarkerBody.MaxBytes"/> + 1 bytes are read, whatever the file's size. Never throws
/// for what the file is; says why it is not a marker instead.
/// </summary>
internal static class MarkerFile
{
    private const int Limit = MarkerBody.MaxBytes + 1;

    /// <summary>The marker at <paramref name="path"/>; null when there is none; <see cref="StoredMarker.NotAMarker"/> when it is not one.</summary>
    public static StoredMarker? Read(string path)
    {
        if (!UnixFile.IsSupported)
        {
            return ReadPortable(path);
        }

        // A rename onto the path between the look and the open shows as another identity: look again.
        for (var tries = 0; ; tries++)
        {
            if (UnixFile.LStat(path, out var errno) is not { } entry)
            {
                return errno is UnixFile.ENOENT or UnixFile.ENOTDIR ? null : StoredMarker.Refused($"cannot be read ({UnixFile.Describe(errno)})");
            }

            if (entry.Kind != FileKind.Regular)
            {
                return StoredMarker.Refused(NotRegular(entry.Kind));
            }

            using var handle = UnixFile.OpenForReading(path, out var opened, out errno);
            if (handle is null)
            {
                return errno is UnixFile.ENOENT or UnixFile.ENOTDIR ? null : StoredMarker.Refused($"cannot be read ({UnixFile.Describe(errno)})");
            }

            if (opened.Identity != entry.Identity || opened.Kind != FileKind.Regular)
            {
                if (tries < 3)
                {
                    continue;
                }

                return StoredMarker.Refused("kept changing while it was read");
            }

            try
            {
                return new StoredMarker(ReadBody(handle, opened.Size), opened.Modified);
            }
            catch (IOException e)
            {
                return StoredMarker.Refused($"cannot be read ({e.Message})");
            }
        }
    }

    /// <summary>Why an entry of this type is not a marker, for a warning.</summary>
    public static string NotRegular(FileKind kind) => kind switch
    {
        FileKind.SymbolicLink => "is a symbolic link; only regular files are markers (links are not followed)",
        FileKind.Directory => "is a folder; only regular files are markers",
        FileKind.Fifo => "is a FIFO (named pipe); only regular files are markers",
        FileKind.Socket => "is a socket; only regular files are markers",
        FileKind.CharacterDevice or FileKind.BlockDevice => "is a device; only regular files are markers",
        _ => "is not a regular file; only regular files are markers",
    };

    private static MarkerBody ReadBody(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long size)
    {
        if (size > MarkerBody.MaxBytes)
        {
            return MarkerBody.TooLarge(size);
        }

        // Sized by what the file said, grown to the limit if it is still being written.
        var buffer = new byte[(int)Math.Min(size + 1, Limit)];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length == Limit)
                {
                    return MarkerBody.TooLarge(Math.Max(size, total));
                }

                Array.Resize(ref buffer, Limit);
            }

            var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n == 0)
            {
                return MarkerBody.Parse(buffer.AsSpan(0, total));
            }

            total += n;
        }
    }

    /// <summary>Where <c>statx</c> is missing: what <see cref="FileInfo"/> can tell (links and folders refused), the same read limit.</summary>
    private static StoredMarker? ReadPortable(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                return StoredMarker.Refused(NotRegular(FileKind.SymbolicLink));
            }

            if (!info.Exists)
            {
                return Directory.Exists(path) ? StoredMarker.Refused(NotRegular(FileKind.Directory)) : null;
            }

            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StoredMarker(ReadBody(handle, RandomAccess.GetLength(handle)), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return StoredMarker.Refused($"cannot be read ({e.Message})");
        }
    }
}
