namespace Cascade.Engine.Runtime;

/// <summary>
/// One scheduler per state file: an exclusive lock on <c>{state}.lock</c>, released when the
/// process ends, even by SIGKILL (the kernel drops the lock with the file handle).
/// </summary>
public sealed class SchedulerLock : IDisposable
{
    private readonly FileStream _stream;

    private SchedulerLock(FileStream stream) => _stream = stream;

    public static SchedulerLock Acquire(string statePath)
    {
        var path = Path.GetFullPath(statePath) + ".lock";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var w = new StreamWriter(stream, leaveOpen: true))
            {
                w.Write(Environment.ProcessId);
            }

            return new SchedulerLock(stream);
        }
        catch (IOException)
        {
            throw new State.StateStoreException($"another `cascade run` is using {statePath}; stop it first, or point this one at another state file");
        }
    }

    public void Dispose() => _stream.Dispose();
}
