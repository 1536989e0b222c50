using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Cascade.Engine.State;

namespace Cascade.Engine.Runtime;

/// <summary>
/// One scheduler per state file, held by two locks that the kernel releases when the process
/// ends, even by SIGKILL: an abstract-namespace Unix socket named after the state file's full path
/// (Linux; not a path, so deleting <c>.cascade</c> cannot release it), and an exclusive lock on
/// <c>{state}.lock</c> (every platform; also seen across containers that share the folder). Both
/// are close-on-exec: the commands a scheduler starts never inherit them.
/// The socket also listens: a connection is a doorbell (<see cref="Ring"/>, <see cref="RingsAsync"/>)
/// that makes a running scheduler read its requests at once; it never confers the lock, which is
/// the bound name, not a connection to it (ADR 11).
/// </summary>
public sealed class SchedulerLock : IDisposable
{
    private const int Backlog = 64; // connections waiting to be accepted; past that, Ring gives up at once
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
            // Non-blocking: a blocking connect would wait for as long as the backlog is full.
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(AbstractName(full)));
                return true;
            }
            catch (SocketException e)
            {
                return e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain; // a full backlog: someone listens
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

    /// <summary>
    /// Tells a running scheduler of <paramref name="statePath"/> that a request is waiting (after its
    /// row is committed): connects to the socket and sends one byte, without ever waiting (a full
    /// backlog, no scheduler, another platform: nothing happens; the scheduler's poll takes it).
    /// </summary>
    public static void Ring(string statePath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
            socket.Connect(new UnixDomainSocketEndPoint(AbstractName(Path.GetFullPath(statePath))));
            socket.Send([1]);
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException)
        {
            // best effort: the poll is the safety net
        }
    }

    /// <summary>
    /// One item per connection to the lock's socket (a <see cref="Ring"/>, or an <see cref="IsHeld"/>
    /// probe: both merely make the scheduler read its requests early). Each accepted socket is closed
    /// at once; nothing is read from it. Ends when <paramref name="stop"/> is cancelled, accepting fails (then the poll alone) or the lock is
    /// disposed; empty where there is no socket (not Linux: the poll only).
    /// </summary>
    public async IAsyncEnumerable<int> RingsAsync([EnumeratorCancellation] CancellationToken stop)
    {
        if (_socket is null)
        {
            yield break;
        }

        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var peer = await _socket.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                yield break;
            }

            yield return ++n;
        }
    }

    /// <summary>The abstract socket's name: stable for one state file, at most 107 bytes.</summary>
    internal static string AbstractName(string fullStatePath) =>
        "\0cascade-scheduler-" + StateHash.Hex(fullStatePath);

    private static Socket BindAbstract(string full, string shown)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(AbstractName(full)));
            socket.Listen(Backlog); // IsHeld tells by connecting, without taking the lock; Ring wakes the scheduler
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
