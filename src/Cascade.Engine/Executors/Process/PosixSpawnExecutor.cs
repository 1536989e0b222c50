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
/// it. Exits are collected by one thread for the process (<see cref="ChildReaper"/>). ADR 12.
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
        var (child, failure) = Start(activation, context);
        if (failure is not null)
        {
            return new AttemptOutcome.NotStarted(failure);
        }

        context.Started?.Invoke();

        // The kill runs on the pool, not on the canceller's thread (the scheduler's loop): finding the tree reads /proc.
        using (kill.UnsafeRegister(static state => ThreadPool.UnsafeQueueUserWorkItem(c => c.KillTree(), (SpawnedChild)state!, preferLocal: false), child))
        {
            var code = await child!.Exit;
            if (!child.Killed)
            {
                return new AttemptOutcome.Exited(code);
            }
        }

        AppendLine(context.LogPath, $"[cascade] killed: {context.KillReason?.Invoke() ?? "the scheduler stopped"}");
        return new AttemptOutcome.Killed();
    }

    /// <summary>Creates the log and starts the command on it: the child, or why it did not start (also written to the log).</summary>
    private unsafe (SpawnedChild? Child, string? Failure) Start(Activation activation, AttemptContext context)
    {
        var reaper = ChildReaper.Shared; // before anything starts: a child nobody could wait for must never be started
        var fileName = CommandSetup.FileName(activation, WorkingDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(context.LogPath)!);
        var log = PosixSpawn.OpenLog(context.LogPath, truncate: true, out var errno);
        if (log < 0)
        {
            throw new IOException($"cannot create the log file {context.LogPath}: {PosixSpawn.Describe(errno)}");
        }

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
                int pid;
                fixed (byte* path = PosixSpawn.Encode(resolved))
                fixed (byte* cwd = PosixSpawn.Encode(WorkingDirectory))
                {
                    errno = PosixSpawn.Spawn(path, args.Pointers, env.Pointers, cwd, log, out pid);
                }

                if (errno == 0)
                {
                    return (reaper.Watch(pid), null);
                }

                error = ProgramPath.StartError(resolved, WorkingDirectory, errno);
            }

            var reason = $"cannot run '{activation.Argv[0]}': {error}";
            _ = PosixSpawn.WriteAll(log, Encoding.UTF8.GetBytes($"[cascade] {reason}\n"));
            return (null, reason);
        }
        finally
        {
            PosixSpawn.CloseFd(log); // the child has its own copies; the parent keeps no fd per running command but its pidfd
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
