using System.Collections.Concurrent;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Log files made ahead of need, so that creating a command's log (a new folder and a new file,
/// two inode allocations: 0.6–1.3 ms each measured on this project's loaded 2-core machine) is
/// not on the path from marker to started process. A spare is an unnamed file (<c>O_TMPFILE</c>)
/// made in the folder of an earlier log; a command starts writing into one, and it gets its name
/// (<c>linkat</c>) while the command runs, as <see cref="ProcessExecutor"/> created its log after
/// the start. Spares are matched to a log by mount (only there can an unnamed file be named);
/// with none ready, another mount, or a file system without <c>O_TMPFILE</c>, the log is created
/// before the start. One small pool for the process: a spare is just an unnamed file on a mount.
/// </summary>
internal static class LogFileSpares
{
    private const int Keep = 4;
    private static readonly ConcurrentQueue<(int Fd, ulong Mount)> Ready = new();
    private static readonly bool Possible = Directory.Exists("/proc/self/fd");
    private static string? _folder;
    private static int _making;
    private static volatile bool _unsupported;

    /// <summary>How many spares are ready (tests).</summary>
    internal static int ReadyCount => Ready.Count;

    /// <summary>A spare that can become <paramref name="logPath"/> (on its mount), or -1.</summary>
    public static int Take(string logPath)
    {
        if (Ready.IsEmpty || MountOf(Path.GetDirectoryName(logPath)) is not { } mount)
        {
            return -1;
        }

        while (Ready.TryDequeue(out var spare))
        {
            if (spare.Mount == mount)
            {
                return spare.Fd;
            }

            PosixSpawn.CloseFd(spare.Fd); // another mount: of no use here any more
        }

        return -1;
    }

    /// <summary>After a start: keeps spares ready in <paramref name="folder"/>, made on the pool (off every path).</summary>
    public static void Refill(string folder)
    {
        if (!Possible || _unsupported)
        {
            return;
        }

        Volatile.Write(ref _folder, folder);
        if (Ready.Count + Volatile.Read(ref _making) >= Keep)
        {
            return;
        }

        Interlocked.Increment(ref _making);
        ThreadPool.UnsafeQueueUserWorkItem(static _ => MakeOne(), (object?)null, preferLocal: false);
    }

    /// <summary>Names <paramref name="fd"/> (a spare) <paramref name="path"/>, replacing a file there: 0, or the errno.</summary>
    public static int Name(int fd, string path)
    {
        var errno = PosixSpawn.Name(fd, path);
        if (errno != PosixSpawn.EEXIST)
        {
            return errno;
        }

        // A log of an earlier scheduler for this attempt: replaced, as a new log would truncate it.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        errno = PosixSpawn.Name(fd, temporary);
        if (errno == 0)
        {
            File.Move(temporary, path, overwrite: true);
        }

        return errno;
    }

    private static void MakeOne()
    {
        try
        {
            if (Volatile.Read(ref _folder) is not { } folder)
            {
                return;
            }

            if (MountOf(folder) is not { } mount)
            {
                _unsupported = true; // no mount ids (Linux before 5.8): spares could not be matched
                return;
            }

            var fd = PosixSpawn.OpenUnnamed(folder, out var errno);
            if (fd >= 0)
            {
                Ready.Enqueue((fd, mount));
            }
            else if (errno is PosixSpawn.EOPNOTSUPP or PosixSpawn.EISDIR or PosixSpawn.EINVAL)
            {
                _unsupported = true; // this file system (or kernel) has no O_TMPFILE: logs are created before the start
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // none made this time: the next start creates its log itself
        }
        finally
        {
            Interlocked.Decrement(ref _making);
        }
    }

    /// <summary>The mount of <paramref name="folder"/>, or of its nearest existing parent (where a new folder would be).</summary>
    private static ulong? MountOf(string? folder)
    {
        for (var dir = folder; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (PosixSpawn.TryMountId(dir, out var mount))
            {
                return mount;
            }
        }

        return null;
    }
}
