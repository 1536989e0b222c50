using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cascade.Engine.Files;

/// <summary>
/// The few POSIX calls .NET does not expose: the type and identity (device + inode) of a path
/// without following a symbolic link, and an open that never blocks on a FIFO. Linux only, through
/// <c>statx</c>, whose record has the same layout on every architecture; elsewhere callers fall
/// back to what <see cref="FileInfo"/> can say.
/// </summary>
internal static class UnixFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>What <c>lstat</c> says of <paramref name="path"/> (a symbolic link is reported as one), or null with the errno.</summary>
    public static FileStatus? LStat(string path, out int errno) =>
        Statx(AtFdCwd, Encode(path), AtSymlinkNoFollow, out errno);

    /// <summary>What <c>stat</c> says of <paramref name="path"/> (following links), or null with the errno.</summary>
    public static FileStatus? Stat(string path, out int errno) => Statx(AtFdCwd, Encode(path), 0, out errno);

    /// <summary>
    /// Opens <paramref name="path"/> for reading with <c>O_NONBLOCK</c> (a FIFO swapped in cannot
    /// block the caller) and returns the open file's own status, or null with the errno.
    /// </summary>
    public static SafeFileHandle? OpenForReading(string path, out FileStatus status, out int errno)
    {
        status = default;
        var fd = NativeMethods.Open(Encode(path), ORdOnly | ONonBlock | OCloExec, 0);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Statx(fd, [0], AtEmptyPath, out errno) is not { } opened)
        {
            handle.Dispose();
            return null;
        }

        status = opened;
        return handle;
    }

    /// <summary>
    /// Creates an empty file at <paramref name="path"/> that must not exist yet (<c>O_CREAT|O_EXCL</c>,
    /// mode 0666 less the umask, as .NET creates files); 0 when created, else the errno (<c>EEXIST</c>:
    /// something is there; <c>ENOENT</c>: its folder is missing). Two system calls, no exception.
    /// </summary>
    public static int CreateEmpty(string path)
    {
        var fd = NativeMethods.Open(Encode(path), OWrOnly | OCreat | OExcl | OCloExec, 0x1B6);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return 0;
    }

    /// <summary>
    /// Reads a whole small file (a <c>/proc</c> entry, whose size is not known in advance) into
    /// <paramref name="buffer"/>, growing it as needed; false with nothing read when it cannot be
    /// opened or read (no exception: a scan over every process meets many it may not read).
    /// </summary>
    public static bool TryReadAll(string path, ref byte[] buffer, out int length)
    {
        length = 0;
        var fd = NativeMethods.Open(Encode(path), ORdOnly | OCloExec, 0);
        if (fd < 0)
        {
            return false;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var n = RandomAccess.Read(handle, buffer.AsSpan(length), length);
                if (n == 0)
                {
                    return true;
                }

                length += n;
            }
        }
        catch (IOException)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A short description of an errno for messages ("permission denied").</summary>
    public static string Describe(int errno) => errno switch
    {
        ENOENT => "it does not exist",
        EACCES => "permission denied",
        ENOTDIR => "a part of its path is not a folder",
        ELOOP => "too many levels of symbolic links",
        _ => Marshal.GetPInvokeErrorMessage(errno).ToLowerInvariant(),
    };

    private static FileStatus? Statx(int dirFd, byte[] path, int flags, out int errno)
    {
        var buffer = new byte[256];
        if (NativeMethods.Statx(dirFd, path, flags, StatxBasicStats, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        var span = buffer.AsSpan();
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
        var inode = BinaryPrimitives.ReadUInt64LittleEndian(span[32..]);
        var size = BinaryPrimitives.ReadInt64LittleEndian(span[40..]);
        var mtimeSeconds = BinaryPrimitives.ReadInt64LittleEndian(span[112..]);
        var mtimeNanos = BinaryPrimitives.ReadUInt32LittleEndian(span[120..]);
        var devMajor = BinaryPrimitives.ReadUInt32LittleEndian(span[136..]);
        var devMinor = BinaryPrimitives.ReadUInt32LittleEndian(span[140..]);
        var modified = DateTimeOffset.FromUnixTimeSeconds(mtimeSeconds).AddTicks(mtimeNanos / 100);
        return new FileStatus(KindOf(mode), size, new FileIdentity(((ulong)devMajor << 32) | devMinor, inode), modified);
    }

    /// <summary>The type in a <c>st_mode</c>.</summary>
    internal static FileKind KindOf(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.SymbolicLink,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        _ => FileKind.Other,
    };

    /// <summary>A path as the C library takes it: UTF-8, NUL-terminated.</summary>
    internal static byte[] Encode(string path)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    private static class NativeMethods
    {
        // Blittable signatures only (byte arrays are pinned, not copied): no marshalling code, AOT-safe.
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(byte[] path, int flags, int mode);

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Statx(int dirFd, byte[] path, int flags, uint mask, byte[] buffer);
    }
}
