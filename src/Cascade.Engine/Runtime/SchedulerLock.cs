using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cascade.Engine.State;

namespace Cascade.Engine.Runtime;

/// <summary>
/// One scheduler per state file, held by two locks that the kernel releases when the process
/// ends, even by SIGKILL: an abstract-namespace Unix socket named after the state file's full path
/// (Linux; not a path, so deleting <c>.cascade</c> cannot release it), and an exclusive lock on
/// <c>{state}.lock</c> (every platform; also seen across containers that share the folder). Both
/// are close-on-exec: the commands a scheduler starts never inherit them.
/// </summary>
public sealed class SchedulerLock : IDisposable
{
    private readonly Socket? _socket;
    private readonly FileStream _stream;

    private SchedulerLock(Socket? socket, FileStream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public static SchedulerLock Acquire(string statePath)
    {
        var full = Path.GetFullPath(statePath);
        var socket = OperatingSystem.IsLinux() ? BindAbstract(full, statePath) : null;
        try
        {
            return new SchedulerLock(socket, LockFile(full + ".lock", statePath));
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a scheduler holds the lock of <paramref name="statePath"/>, asked without taking it
    /// (on Linux by connecting to its socket), so that asking never makes a starting scheduler
    /// refuse. Elsewhere the lock is taken and released at once.
    /// </summary>
    public static bool IsHeld(string statePath)
    {
        var full = Path.GetFullPath(statePath);
        if (OperatingSystem.IsLinux())
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(AbstractName(full)));
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        try
        {
            using var probe = Acquire(statePath);
            return false;
        }
        catch (StateStoreException)
        {
            return true;
        }
    }

    /// <summary>The abstract socket's name: stable for one state file, at most 107 bytes.</summary>
    internal static string AbstractName(string fullStatePath) =>
        "\0cascade-scheduler-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fullStatePath)))[..32];

    private static Socket BindAbstract(string full, string shown)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(AbstractName(full)));
            socket.Listen(1); // so that IsHeld can tell by connecting, without taking the lock
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw Busy(shown);
        }
    }

    private static FileStream LockFile(string path, string shown)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            WritePid(stream);
            return stream;
        }
        catch (IOException e) when (e.HResult == 11 || e.Message.Contains("being used by another process", StringComparison.Ordinal))
        {
            throw Busy(shown); // EWOULDBLOCK: another process holds the lock
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateStoreException($"cannot create the scheduler's lock file {path}: {Files.IoErrors.Describe(e)}", e);
        }
    }

    /// <summary>The holder's pid, for people; the lock is the open file, so a full disk here is no reason to refuse.</summary>
    private static void WritePid(FileStream stream)
    {
        try
        {
            stream.SetLength(0);
            var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            stream.Write(pid);
            stream.Flush();
        }
        catch (IOException)
        {
            // the disk is full: the lock holds all the same; the state's first write reports the disk
        }
    }

    private static StateStoreException Busy(string statePath) =>
        new($"another `cascade run` is using {statePath}; stop it first, or point this one at another state file");

    public void Dispose()
    {
        _stream.Dispose();
        _socket?.Dispose();
    }
}
