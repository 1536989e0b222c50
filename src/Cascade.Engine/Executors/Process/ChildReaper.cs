using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Collects the exit status of every child <see cref="PosixSpawnExecutor"/> starts, on one thread
/// for the whole process (not one per child): each child's pidfd is in one epoll set; a pidfd
/// becomes readable when its process ends, and the thread then collects that pid and only that
/// pid (<c>waitid(P_PID)</c>, never "any child"), so the children of .NET's <c>Process</c> are
/// never taken from it, and .NET never takes ours (it collects only the pids it started, unless it
/// runs as pid 1 or SIGCHLD was ignored, where <see cref="PosixSpawn.UnsupportedReason"/> keeps
/// this executor off). One per process because children are a process-wide resource, like .NET's
/// own table of them. See ADR 13.
/// </summary>
internal sealed unsafe class ChildReaper
{
    private const int Batch = 64;
    private static readonly Lazy<ChildReaper> Instance = new(() => new ChildReaper());

    private readonly ConcurrentDictionary<int, SpawnedChild> _children = new();
    private readonly int _epoll;
    private volatile Exception? _broken;

    private ChildReaper()
    {
        _epoll = PosixSpawn.EpollCreate(out var errno);
        if (_epoll < 0)
        {
            throw new IOException($"cannot create the epoll set that waits for commands: {PosixSpawn.Describe(errno)}");
        }

        new Thread(Loop) { IsBackground = true, Name = "cascade child reaper" }.Start();
    }

    public static ChildReaper Shared => Instance.Value;

    /// <summary>How many children are being waited for (tests).</summary>
    internal int Watched => _children.Count;

    /// <summary>
    /// Starts waiting for our child <paramref name="pid"/>, just spawned and not collected (its
    /// pid cannot have been reused). On failure (no fd left) the child is killed and collected
    /// here, and the error is thrown: a child nobody waits for would run unattended.
    /// </summary>
    public SpawnedChild Watch(int pid)
    {
        var child = new SpawnedChild(pid);
        var pidfd = PosixSpawn.PidfdOpen(pid, out var errno);
        if (pidfd >= 0)
        {
            _children[pidfd] = child;
            errno = _broken is null ? PosixSpawn.EpollAdd(_epoll, pidfd) : PosixSpawn.EINTR;
            if (errno == 0)
            {
                return child;
            }

            _children.TryRemove(pidfd, out _);
            PosixSpawn.CloseFd(pidfd);
        }

        _ = PosixSpawn.Signal(pid, PosixSpawn.SIGKILL);
        child.TryCollect(block: true);
        throw _broken ?? new IOException($"cannot wait for the started process {pid}: {PosixSpawn.Describe(errno)}");
    }

    private void Loop()
    {
        var events = (byte*)NativeMemory.Alloc((nuint)(Batch * PosixSpawn.EpollEventSize));
        try
        {
            while (true)
            {
                var n = PosixSpawn.EpollWait(_epoll, events, Batch, out var errno);
                if (n < 0)
                {
                    if (errno == PosixSpawn.EINTR)
                    {
                        continue;
                    }

                    Break(new IOException($"waiting for commands failed: {PosixSpawn.Describe(errno)}"));
                    return;
                }

                for (var i = 0; i < n; i++)
                {
                    var pidfd = PosixSpawn.EpollEventFd(events, i);
                    if (_children.TryGetValue(pidfd, out var child) && child.TryCollect())
                    {
                        // Out of the table before the fd is closed: a new child may get the same fd number.
                        _children.TryRemove(pidfd, out _);
                        PosixSpawn.EpollRemove(_epoll, pidfd);
                        PosixSpawn.CloseFd(pidfd);
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    /// <summary>An epoll set that stopped working (never seen): every wait fails with the cause, and no more commands start this way.</summary>
    private void Break(Exception error)
    {
        _broken = error;
        foreach (var (pidfd, child) in _children)
        {
            if (_children.TryRemove(pidfd, out _))
            {
                child.Fail(error);
            }
        }
    }
}
