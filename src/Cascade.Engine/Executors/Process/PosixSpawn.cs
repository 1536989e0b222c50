using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// The operating-system calls of <see cref="PosixSpawnExecutor"/>, and only those (glibc on Linux,
/// x64 and arm64): <c>posix_spawn</c> with file actions, <c>pidfd_open</c>, <c>waitid</c>,
/// <c>kill</c>, <c>epoll</c>, and the few checks .NET's own process start makes
/// (<c>access</c>, the executable bits). Everything above it is ordinary managed code. Blittable
/// signatures through <c>[LibraryImport]</c>: no marshalling stubs, no reflection, AOT-clean.
/// See ADR 13 for why these calls and no others.
/// </summary>
internal static unsafe partial class PosixSpawn
{
    public const int SIGKILL = 9;
    public const int SIGSTOP = 19;
    public const int ESRCH = 3;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int EPOLLIN = 1;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int EISDIR = 21;
    public const int EOPNOTSUPP = 95;

    private const string Libc = "libc";
    private const int SIGCHLD = 17;
    private const nint SigIgn = 1;
    private const int SaNoCldWait = 2;
    private const int OWrOnly = 1;
    private const int ORdOnly = 0;
    private const int OCreat = 0x40;
    private const int OTrunc = 0x200;
    private const int OAppend = 0x400;
    private const int OCloExec = 0x80000;
    private const int XOk = 1;
    private const int PPid = 1;
    private const int WExited = 4;
    private const int WNoHang = 1;
    private const int CldExited = 1;
    private const long SysPidfdOpen = 434; // the same number on x64 and arm64 (the unified table, Linux 5.3)
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int AtFdCwd = -100;
    private const int AtSymlinkFollow = 0x400;
    private const uint StatxBasicStats = 0x7ff;
    private const uint StatxMountId = 0x1000;

    // Opaque glibc objects, given more room than they take (80 and 336 bytes on 64-bit glibc).
    private const int FileActionsSize = 256;
    private const int AttributesSize = 1024;
    private const short PosixSpawnSetSigDef = 0x04;

    private static readonly Lazy<string?> Unsupported = new(Probe);

    /// <summary>Why the fast path cannot run in this process (then commands start through <c>Process</c>), or null when it can.</summary>
    public static string? UnsupportedReason => Unsupported.Value;

    /// <summary>The size of one <c>struct epoll_event</c>: packed (12 bytes) on x64, naturally aligned (16) elsewhere.</summary>
    public static int EpollEventSize => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static int EpollDataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>
    /// Starts <paramref name="path"/> (already resolved) with <paramref name="argv"/> and
    /// <paramref name="envp"/> (NULL-terminated arrays of NUL-terminated UTF-8 strings) in
    /// <paramref name="cwd"/>: stdin from <c>/dev/null</c>, stdout and stderr onto
    /// <paramref name="outputFd"/>. Returns 0 and the pid, or the errno of the step that failed
    /// (the chdir or the exec in the child are reported too: glibc waits for the exec).
    /// </summary>
    public static int Spawn(byte* path, byte** argv, byte** envp, byte* cwd, int outputFd, out int pid)
    {
        pid = -1;
        var actions = stackalloc byte[FileActionsSize];
        var result = FileActionsInit(actions);
        if (result != 0)
        {
            return result;
        }

        try
        {
            // The output first: if our own stdin was closed, outputFd may be 0 and must be copied before 0 is replaced.
            fixed (byte* devNull = "/dev/null\0"u8)
            {
                if ((result = AddDup2(actions, outputFd, 1)) != 0
                    || (result = AddDup2(actions, outputFd, 2)) != 0
                    || (result = AddOpen(actions, 0, devNull, ORdOnly, 0)) != 0
                    || (result = AddChdir(actions, cwd)) != 0)
                {
                    return result;
                }
            }

            return SpawnWith(actions, path, argv, envp, out pid);
        }
        finally
        {
            _ = FileActionsDestroy(actions);
        }
    }

    /// <summary>
    /// The spawn itself. glibc's child leaves its two internal signals (32 and 33) ignored, and an
    /// ignored signal stays ignored across exec; .NET's child sets them to the default, as every
    /// signal it had a handler for. So they are named here to be set to the default too (glibc
    /// copies the paths of the file actions, so they need not outlive their calls).
    /// </summary>
    private static int SpawnWith(byte* actions, byte* path, byte** argv, byte** envp, out int pid)
    {
        pid = -1;
        var attributes = stackalloc byte[AttributesSize];
        var result = AttrInit(attributes);
        if (result != 0)
        {
            return result;
        }

        try
        {
            var defaults = stackalloc byte[128];
            new Span<byte>(defaults, 128).Clear();
            defaults[(32 - 1) / 8] |= 1 << ((32 - 1) % 8);
            defaults[(33 - 1) / 8] |= 1 << ((33 - 1) % 8);
            if ((result = AttrSetSigDefault(attributes, defaults)) != 0 || (result = AttrSetFlags(attributes, PosixSpawnSetSigDef)) != 0)
            {
                return result;
            }

            int child;
            result = PosixSpawnCall(&child, path, actions, attributes, argv, envp);
            if (result == 0)
            {
                pid = child;
            }

            return result;
        }
        finally
        {
            _ = AttrDestroy(attributes);
        }
    }

    /// <summary>
    /// Opens a log file for appending, close-on-exec: <paramref name="truncate"/> creates or empties
    /// it, otherwise it must exist. Returns the fd, or -1 with the errno.
    /// </summary>
    public static int OpenLog(string path, bool truncate, out int errno)
    {
        fixed (byte* p = Encode(path))
        {
            var flags = OWrOnly | OAppend | OCloExec | (truncate ? OCreat | OTrunc : 0);
            var fd = Open(p, flags, 0x1B6); // 0666 before the umask, as .NET creates files
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            return fd;
        }
    }

    /// <summary>
    /// An unnamed file (<c>O_TMPFILE</c>) in <paramref name="folder"/>, open for appending and
    /// close-on-exec, to be named later (<see cref="Name"/>); -1 with the errno where the file
    /// system does not support it.
    /// </summary>
    public static int OpenUnnamed(string folder, out int errno)
    {
        fixed (byte* p = Encode(folder))
        {
            // __O_TMPFILE | O_DIRECTORY; arm64 numbers O_DIRECTORY as 32-bit arm does.
            var tmpFile = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x404000 : 0x410000;
            var fd = Open(p, tmpFile | OWrOnly | OAppend | OCloExec, 0x1B6);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            return fd;
        }
    }

    /// <summary>Gives the unnamed file <paramref name="fd"/> the name <paramref name="path"/> (which must not exist): 0, or the errno.</summary>
    public static int Name(int fd, string path)
    {
        fixed (byte* from = Encode(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}")))
        fixed (byte* to = Encode(path))
        {
            return LinkAt(AtFdCwd, from, AtFdCwd, to, AtSymlinkFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>The id of the mount <paramref name="path"/> is on (<c>statx</c>, Linux 5.8+), or false: an unnamed file can be named only on its own mount.</summary>
    public static bool TryMountId(string path, out ulong mountId)
    {
        mountId = 0;
        var buffer = stackalloc byte[256];
        fixed (byte* p = Encode(path))
        {
            if (Statx(AtFdCwd, p, 0, StatxMountId, buffer) != 0)
            {
                return false;
            }
        }

        var span = new ReadOnlySpan<byte>(buffer, 256);
        if ((BinaryPrimitives.ReadUInt32LittleEndian(span) & StatxMountId) == 0)
        {
            return false;
        }

        mountId = BinaryPrimitives.ReadUInt64LittleEndian(span[144..]);
        return true;
    }

    /// <summary>Writes all of <paramref name="bytes"/> to <paramref name="fd"/>; false on an error (a full disk).</summary>
    public static bool WriteAll(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var n = Write(fd, start + done, (nuint)(bytes.Length - done));
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                    {
                        continue;
                    }

                    return false;
                }

                done += (int)n;
            }

            return true;
        }
    }

    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>A pidfd for <paramref name="pid"/> (close-on-exec), or -1 with the errno.</summary>
    public static int PidfdOpen(int pid, out int errno)
    {
        var fd = (int)Syscall(SysPidfdOpen, pid, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>
    /// Collects the exit status of our child <paramref name="pid"/> if it has ended: true and the
    /// exit code as .NET reports it (the exit status, or 128 + the signal that killed it). False
    /// while it runs (errno 0), or when it cannot be collected (the errno: ECHILD if it is no child
    /// of ours, or someone else collected it). <paramref name="block"/>: wait for the end.
    /// </summary>
    public static bool TryReap(int pid, bool block, out int exitCode, out int errno)
    {
        var info = stackalloc byte[128];
        while (true)
        {
            new Span<byte>(info, 128).Clear();
            if (WaitId(PPid, pid, info, block ? WExited : WExited | WNoHang) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }

                exitCode = -1;
                return false;
            }

            errno = 0;
            var span = new ReadOnlySpan<byte>(info, 128);
            if (BinaryPrimitives.ReadInt32LittleEndian(span[16..]) == 0)
            {
                exitCode = 0;
                return false; // still running (WNOHANG leaves si_pid zero)
            }

            var code = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
            var status = BinaryPrimitives.ReadInt32LittleEndian(span[24..]);
            exitCode = code == CldExited ? status : 128 + status;
            return true;
        }
    }

    /// <summary><c>kill(pid, signal)</c>: 0, or the errno.</summary>
    public static int Signal(int pid, int signal) => Kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Whether <paramref name="path"/> passes the <c>access(X_OK)</c> check .NET makes before it forks: 0, or the errno.</summary>
    public static int AccessExecute(string path)
    {
        fixed (byte* p = Encode(path))
        {
            return Access(p, XOk) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    public static uint EffectiveUserId() => GetEUid();

    /// <summary>The mode bits, owner and group of <paramref name="path"/> (links followed, as <c>stat</c>), or false when it cannot be looked at.</summary>
    public static bool TryStat(string path, out uint mode, out uint uid, out uint gid)
    {
        var buffer = stackalloc byte[256];
        fixed (byte* p = Encode(path))
        {
            if (Statx(AtFdCwd, p, 0, StatxBasicStats, buffer) != 0)
            {
                mode = uid = gid = 0;
                return false;
            }
        }

        var span = new ReadOnlySpan<byte>(buffer, 256);
        uid = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
        gid = BinaryPrimitives.ReadUInt32LittleEndian(span[24..]);
        mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
        return true;
    }

    /// <summary>Whether the caller is in group <paramref name="gid"/> (its effective group or a supplementary one), as .NET decides it.</summary>
    public static bool IsMemberOfGroup(uint gid)
    {
        if (GetEGid() == gid)
        {
            return true;
        }

        var count = GetGroups(0, null);
        if (count <= 0)
        {
            return false;
        }

        var groups = new uint[count];
        fixed (uint* g = groups)
        {
            count = GetGroups(count, g);
        }

        return count > 0 && groups.AsSpan(0, count).Contains(gid);
    }

    public static int EpollCreate(out int errno)
    {
        var fd = EpollCreate1(OCloExec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>Watches <paramref name="fd"/> for reading, with the fd itself as the event's data: 0 or the errno.</summary>
    public static int EpollAdd(int epoll, int fd)
    {
        var ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(ev, 4), EPOLLIN);
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(ev + EpollDataOffset, 8), fd);
        return EpollCtl(epoll, EpollCtlAdd, fd, ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static void EpollRemove(int epoll, int fd)
    {
        var ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        _ = EpollCtl(epoll, EpollCtlDel, fd, ev);
    }

    /// <summary>Blocks until at least one watched fd is ready; returns how many events are in <paramref name="events"/> (−1 with the errno).</summary>
    public static int EpollWait(int epoll, byte* events, int max, out int errno)
    {
        var n = EpollWaitCall(epoll, events, max, -1);
        errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
        return n;
    }

    /// <summary>The fd of the <paramref name="index"/>th event of <see cref="EpollWait"/>.</summary>
    public static int EpollEventFd(byte* events, int index) =>
        (int)BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(events + (index * EpollEventSize) + EpollDataOffset, 8));

    /// <summary>The text of an errno, as .NET's own exceptions word it ("No such file or directory").</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>NUL-terminated UTF-8, as .NET marshals a path for the OS.</summary>
    public static byte[] Encode(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>
    /// Sets SIGCHLD back to its default if this process was started with it ignored (an ignored
    /// signal is inherited across exec). Ignored, the kernel collects every child at once, so no
    /// exit status is left to read: .NET's <c>Process</c> then waits for ever, and posix_spawn's
    /// children cannot be collected. It must run before .NET installs its own SIGCHLD handler
    /// (the first <c>Process</c> or terminal console use), which keeps an ignored SIGCHLD as it
    /// found it. Returns whether it was ignored. Linux only; elsewhere nothing is done.
    /// </summary>
    public static bool RestoreIgnoredSigChld()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return false;
        }

        var current = stackalloc byte[256];
        if (SigAction(SIGCHLD, null, current) != 0 || *(nint*)current != SigIgn)
        {
            return false;
        }

        var defaults = stackalloc byte[256];
        new Span<byte>(defaults, 256).Clear(); // SIG_DFL, no flags, empty mask
        return SigAction(SIGCHLD, defaults, null) == 0;
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "posix_spawn is used on Linux only";
        }

        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return $"posix_spawn is used on x64 and arm64 only, not {RuntimeInformation.ProcessArchitecture}";
        }

        // .NET reaps every child on SIGCHLD when it runs as pid 1 or was started with SIGCHLD
        // ignored (a child's exit status would then be lost to it): see ADR 13.
        if (Environment.ProcessId == 1)
        {
            return "running as pid 1, where .NET reaps every child process (run under an init such as tini or `docker run --init` for the fast path)";
        }

        try
        {
            var action = stackalloc byte[256];
            if (SigAction(SIGCHLD, null, action) == 0)
            {
                var handler = *(nint*)action;
                var flags = *(int*)(action + 8 + 128);
                if (handler == SigIgn || (flags & SaNoCldWait) != 0)
                {
                    return "SIGCHLD is ignored in this process, so exit statuses are not kept for it to collect";
                }
            }

            var actions = stackalloc byte[FileActionsSize];
            if (FileActionsInit(actions) != 0)
            {
                return "posix_spawn_file_actions_init failed";
            }

            try
            {
                fixed (byte* root = "/\0"u8)
                {
                    if (AddChdir(actions, root) != 0)
                    {
                        return "posix_spawn_file_actions_addchdir_np failed";
                    }
                }
            }
            finally
            {
                _ = FileActionsDestroy(actions);
            }

            var pidfd = PidfdOpen(Environment.ProcessId, out var errno);
            if (pidfd < 0)
            {
                return $"pidfd_open is not available (Linux 5.3 or later): {Describe(errno)}";
            }

            CloseFd(pidfd);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return "this C library lacks posix_spawn_file_actions_addchdir_np (glibc 2.29 or later)";
        }
        catch (DllNotFoundException)
        {
            return "the C library could not be loaded";
        }
    }

    [LibraryImport(Libc, EntryPoint = "posix_spawn")]
    private static partial int PosixSpawnCall(int* pid, byte* path, byte* fileActions, byte* attributes, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(byte* attributes);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(byte* attributes);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(byte* attributes, short flags);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSigDefault(byte* attributes, byte* signals);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(byte* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(byte* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int AddDup2(byte* fileActions, int fd, int newFd);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addopen")]
    private static partial int AddOpen(byte* fileActions, int fd, byte* path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    private static partial int AddChdir(byte* fileActions, byte* path);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long arg1, long arg2);

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, byte* info, int options);

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport(Libc, EntryPoint = "access", SetLastError = true)]
    private static partial int Access(byte* path, int mode);

    [LibraryImport(Libc, EntryPoint = "linkat", SetLastError = true)]
    private static partial int LinkAt(int fromDir, byte* from, int toDir, byte* to, int flags);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true)]
    private static partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    private static partial uint GetEUid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    private static partial uint GetEGid();

    [LibraryImport(Libc, EntryPoint = "getgroups", SetLastError = true)]
    private static partial int GetGroups(int size, uint* list);

    [LibraryImport(Libc, EntryPoint = "sigaction", SetLastError = true)]
    private static partial int SigAction(int signal, byte* action, byte* oldAction);

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int op, int fd, byte* ev);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWaitCall(int epoll, byte* events, int max, int timeout);
}
