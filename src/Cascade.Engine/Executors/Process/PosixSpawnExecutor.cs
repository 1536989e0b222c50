using System.Collections;
using System.Text;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Runs a command as a child process with <c>posix_spawn</c> (Linux, glibc), never through a
/// shell, with everything <see cref="ProcessExecutor"/> gives it: the same program lookup, argv,
/// environment (the scheduler's, the <c>CASCADE_*</c> values and <see cref="OrphanProcesses"/>'
/// tag), working directory (the pipeline's folder), stdin at end-of-file, the same exit codes
/// (128 + the signal for a killed command), the same start errors, and a cancel that kills the
/// command's whole tree. What differs is the output: the child's stdout and stderr are the
/// attempt's log file itself (opened for appending), so there are no pipes to drain and no reader
/// threads, and the log is complete at every moment of the run, byte for byte as the command wrote
/// it. Exits are collected by one thread for the process (<see cref="ChildReaper"/>). The log is
/// usually a spare made ahead and named while the command runs (<see cref="LogFileSpares"/>), so
/// that creating it is not on the path from marker to started process. ADR 13.
/// </summary>
public sealed class PosixSpawnExecutor : IExecutor
{
    private readonly string? _tag;

    /// <summary>A posix_spawn executor; check <see cref="UnsupportedReason"/> first (it throws where this executor cannot run).</summary>
    public PosixSpawnExecutor(string workingDirectory, string? stateIdentity = null)
    {
        if (UnsupportedReason is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }

        WorkingDirectory = Path.GetFullPath(workingDirectory);
        _tag = stateIdentity is null ? null : OrphanProcesses.TagFor(stateIdentity);
    }

    /// <summary>Why this executor cannot run in this process (then <see cref="ProcessExecutor"/> is used), or null when it can.</summary>
    public static string? UnsupportedReason => PosixSpawn.UnsupportedReason;

    public string WorkingDirectory { get; }

    public async ValueTask<IReadOnlyList<string>> EndOrphansAsync(CancellationToken cancellationToken) =>
        _tag is null ? [] : await OrphanProcesses.EndAllAsync(_tag, TimeProvider.System, cancellationToken);

    public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
    {
        var (child, failure, spare) = Start(activation, context);
        if (failure is not null)
        {
            return new AttemptOutcome.NotStarted(failure);
        }

        // The kill runs on the pool, not on the canceller's thread (the scheduler's loop): finding the tree reads /proc.
        using (kill.UnsafeRegister(static state => ThreadPool.UnsafeQueueUserWorkItem(c => c.KillTree(), (SpawnedChild)state!, preferLocal: false), child))
        {
            try
            {
                context.Started?.Invoke();
            }
            finally
            {
                // Named right after the start is reported (the process runs already), and always.
                if (spare >= 0)
                {
                    await NameLogAsync(child!, spare, context.LogPath);
                }
            }

            LogFileSpares.Refill(Path.GetDirectoryName(context.LogPath)!);
            var code = await child!.Exit;
            if (!child.Killed)
            {
                return new AttemptOutcome.Exited(code);
            }
        }

        AppendLine(context.LogPath, $"[cascade] killed: {context.KillReason?.Invoke() ?? "the scheduler stopped"}");
        return new AttemptOutcome.Killed();
    }

    /// <summary>
    /// Starts the command on its log: the child (and the spare it writes into, still to be named,
    /// or -1 when the log was created first), or why it did not start (also written to the log).
    /// </summary>
    private unsafe (SpawnedChild? Child, string? Failure, int Spare) Start(Activation activation, AttemptContext context)
    {
        var reaper = ChildReaper.Shared; // before anything starts: a child nobody could wait for must never be started
        var fileName = CommandSetup.FileName(activation, WorkingDirectory);
        var spare = LogFileSpares.Take(context.LogPath);
        var log = spare >= 0 ? spare : CreateLog(context.LogPath);
        var keep = false;
        try
        {
            // The checks .NET makes before it forks, in its order, with its words.
            var resolved = ProgramPath.Resolve(fileName);
            string? error = null;
            if (Directory.Exists(resolved))
            {
                error = ProgramPath.DirectoryMessage;
            }
            else if (resolved is null)
            {
                error = ProgramPath.StartError(fileName, WorkingDirectory, PosixSpawn.ENOENT);
            }
            else if (PosixSpawn.AccessExecute(resolved) is not 0 and var denied)
            {
                error = ProgramPath.StartError(resolved, WorkingDirectory, denied);
            }
            else
            {
                var argv = new List<string>(activation.Argv.Count) { fileName };
                argv.AddRange(activation.Argv.Skip(1));
                using var args = new NativeStrings(argv);
                using var env = new NativeStrings(EnvironmentOf(activation, context));
                int pid, errno;
                fixed (byte* path = PosixSpawn.Encode(resolved))
                fixed (byte* cwd = PosixSpawn.Encode(WorkingDirectory))
                {
                    errno = PosixSpawn.Spawn(path, args.Pointers, env.Pointers, cwd, log, out pid);
                }

                if (errno == 0)
                {
                    var child = reaper.Watch(pid);
                    keep = spare >= 0;
                    return (child, null, spare);
                }

                error = ProgramPath.StartError(resolved, WorkingDirectory, errno);
            }

            var reason = $"cannot run '{activation.Argv[0]}': {error}";
            if (spare >= 0)
            {
                PosixSpawn.CloseFd(spare); // the log of an attempt that never ran is made the plain way
                log = -1;
                log = CreateLog(context.LogPath);
            }

            _ = PosixSpawn.WriteAll(log, Encoding.UTF8.GetBytes($"[cascade] {reason}\n"));
            return (null, reason, -1);
        }
        finally
        {
            // The child has its own copies; the parent keeps no fd per running command but its pidfd
            // (and a spare until it is named).
            if (!keep && log >= 0)
            {
                PosixSpawn.CloseFd(log);
            }
        }
    }

    /// <summary>Creates (or empties) the log file before the start, as when no spare is at hand.</summary>
    private static int CreateLog(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the log file {path}: {e.Message}", e);
        }

        var fd = PosixSpawn.OpenLog(path, truncate: true, out var errno);
        return fd >= 0 ? fd : throw new IOException($"cannot create the log file {path}: {PosixSpawn.Describe(errno)}");
    }

    /// <summary>Names the spare the running command writes into; if that fails the command is killed (its output would be lost) and the error thrown.</summary>
    private static async Task NameLogAsync(SpawnedChild child, int spare, string path)
    {
        string? failure;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var errno = LogFileSpares.Name(spare, path);
            failure = errno == 0 ? null : PosixSpawn.Describe(errno);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failure = e.Message;
        }
        finally
        {
            PosixSpawn.CloseFd(spare);
        }

        if (failure is not null)
        {
            child.KillTree();
            await ((Task)child.Exit).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw new IOException($"cannot create the log file {path}: {failure}");
        }
    }

    /// <summary>The scheduler's environment with the command's variables on top, as <c>KEY=value</c> entries.</summary>
    private List<string> EnvironmentOf(Activation activation, AttemptContext context)
    {
        var current = Environment.GetEnvironmentVariables();
        var variables = new Dictionary<string, string?>(current.Count + 16, StringComparer.Ordinal);
        foreach (DictionaryEntry entry in current)
        {
            variables[(string)entry.Key] = (string?)entry.Value;
        }

        foreach (var (name, value) in CommandSetup.Variables(activation, context, _tag))
        {
            variables[name] = value;
        }

        var entries = new List<string>(variables.Count);
        foreach (var (name, value) in variables)
        {
            entries.Add(name + "=" + value);
        }

        return entries;
    }

    /// <summary>Appends a line of Cascade's own to the log, on a line of its own even when the command's output did not end with one.</summary>
    private static void AppendLine(string path, string line)
    {
        var text = line + "\n";
        try
        {
            using (var read = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                var length = RandomAccess.GetLength(read);
                Span<byte> last = stackalloc byte[1];
                if (length > 0 && RandomAccess.Read(read, last, length - 1) == 1 && last[0] != (byte)'\n')
                {
                    text = "\n" + text;
                }
            }

            var fd = PosixSpawn.OpenLog(path, truncate: false, out _);
            if (fd >= 0)
            {
                _ = PosixSpawn.WriteAll(fd, Encoding.UTF8.GetBytes(text));
                PosixSpawn.CloseFd(fd);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the log went away or the disk is full: the outcome stands
        }
    }
}
