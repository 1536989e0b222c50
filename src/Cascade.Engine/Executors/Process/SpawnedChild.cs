namespace Cascade.Engine.Executors.Process;

/// <summary>
/// A child started by <see cref="PosixSpawnExecutor"/>, until its exit status is collected.
/// Collecting (by <see cref="ChildReaper"/>) and killing take the same lock: while the status is
/// not collected the pid stays ours (a zombie at worst, and nothing else in this process collects
/// it), so a kill can never reach another process that reused the pid.
/// </summary>
internal sealed class SpawnedChild(int pid)
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _collected;

    public int Pid { get; } = pid;

    /// <summary>The exit code as .NET reports it (the exit status, or 128 + the signal that ended it).</summary>
    public Task<int> Exit => _exit.Task;

    /// <summary>Whether <see cref="KillTree"/> reached the process before its exit was collected.</summary>
    public bool Killed { get; private set; }

    /// <summary>Collects the exit status if the process has ended (<paramref name="block"/>: once it ends); true once it is collected (or cannot be).</summary>
    public bool TryCollect(bool block = false)
    {
        int code;
        lock (_gate)
        {
            if (_collected)
            {
                return true;
            }

            if (!PosixSpawn.TryReap(Pid, block, out code, out var errno))
            {
                if (errno == 0)
                {
                    return false; // still running
                }

                _collected = true;
                _exit.TrySetException(new IOException($"the exit status of process {Pid} could not be collected: {PosixSpawn.Describe(errno)}"));
                return true;
            }

            _collected = true;
        }

        _exit.TrySetResult(code);
        return true;
    }

    /// <summary>Fails the wait (the reaper cannot watch the process any more).</summary>
    public void Fail(Exception error) => _exit.TrySetException(error);

    /// <summary>Kills the process and every descendant (<see cref="ProcessTree"/>), unless it has ended and been collected.</summary>
    public void KillTree()
    {
        lock (_gate)
        {
            if (_collected)
            {
                return;
            }

            Killed = true;
            try
            {
                ProcessTree.Kill(Pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _ = PosixSpawn.Signal(Pid, PosixSpawn.SIGKILL); // /proc unreadable: the command at least
            }
        }
    }
}
