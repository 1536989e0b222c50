using System.ComponentModel;
using Cascade.Core.Scheduling;
using SystemProcess = System.Diagnostics.Process;
using ProcessStartInfo = System.Diagnostics.ProcessStartInfo;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Runs a command as a child process through <see cref="System.Diagnostics.Process"/>, never through a shell: the rendered argv goes to
/// <see cref="ProcessStartInfo.ArgumentList"/>. The working directory is the pipeline's folder; a
/// relative program path (one with a '/') is resolved against it. Output (stdout and stderr,
/// interleaved by line) goes to the attempt's log file within <see cref="LogFlushInterval"/> of
/// arriving, so <c>cascade logs</c> shows a running attempt's output (and <c>--follow</c> tails it).
/// <para><c>stateIdentity</c> identifies the scheduler's state (its full path): every command is
/// tagged with it, so that a later scheduler of the same state can end what a dead one left
/// running (<see cref="EndOrphansAsync"/>, ADR 7). Null: untagged, and nothing is ended.</para>
/// <para>The portable executor: on Linux <see cref="PosixSpawnExecutor"/> starts commands more cheaply
/// (no pipes, no reader threads), and this one is the fallback where that cannot run (ADR 13,
/// <see cref="CommandExecutors"/>).</para>
/// </summary>
public sealed class ProcessExecutor(string workingDirectory, string? stateIdentity = null) : IExecutor
{
    private readonly string? _tag = stateIdentity is null ? null : OrphanProcesses.TagFor(stateIdentity);

    public string WorkingDirectory { get; } = Path.GetFullPath(workingDirectory);

    public async ValueTask<IReadOnlyList<string>> EndOrphansAsync(CancellationToken cancellationToken) =>
        _tag is null ? [] : await OrphanProcesses.EndAllAsync(_tag, TimeProvider.System, cancellationToken);

    /// <summary>
    /// How soon a line of output is in the log file: lines are buffered and the buffer is written
    /// out at this period while there is something new (a flush per line cost ~4 µs a line: +0.8 s
    /// on a job printing 200,000 lines).
    /// </summary>
    public TimeSpan LogFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The clock of the log flush timer.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
    {
        var info = new ProcessStartInfo(CommandSetup.FileName(activation, WorkingDirectory))
        {
            WorkingDirectory = WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // closed at once: a job reading stdin gets end-of-file, not the scheduler's terminal
        };
        foreach (var arg in activation.Argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in CommandSetup.Variables(activation, context, _tag))
        {
            info.Environment[name] = value;
        }

        // The process starts first; its log file is created right after (the output waits in the
        // pipe meanwhile), so creating a file is not on the path from marker to started process.
        StreamWriter? log = null;
        var gate = new object();
        var unflushed = false;
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                // On the output reader's thread, never on the path from marker to started process.
                log!.WriteLine(line);
                unflushed = true;
            }
        }

        // The log is live: what the command printed is in the file within LogFlushInterval.
        void FlushLog()
        {
            lock (gate)
            {
                try
                {
                    if (unflushed && log is not null)
                    {
                        unflushed = false;
                        log.Flush();
                    }
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                    // A full disk, or a tick racing the end of the attempt: never a crash of the
                    // scheduler; the attempt's outcome is its exit code either way.
                }
            }
        }

        StreamWriter OpenLog()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(context.LogPath)!);
            return new StreamWriter(context.LogPath, append: false) { AutoFlush = false };
        }

        using var process = new SystemProcess { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        try
        {
            if (!process.Start())
            {
                return new AttemptOutcome.NotStarted($"'{activation.Argv[0]}' did not start");
            }
        }
        catch (Win32Exception e)
        {
            var reason = $"cannot run '{activation.Argv[0]}': {e.Message}";
            await using (var failed = OpenLog())
            {
                await failed.WriteLineAsync($"[cascade] {reason}");
            }

            return new AttemptOutcome.NotStarted(reason);
        }

        context.Started?.Invoke();
        process.StandardInput.Close();
        log = OpenLog();
        var flusher = Time.CreateTimer(_ => FlushLog(), null, LogFlushInterval, LogFlushInterval);
        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(kill);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }

                await process.WaitForExitAsync(CancellationToken.None);
                Write($"[cascade] killed: {context.KillReason?.Invoke() ?? "the scheduler stopped"}");
                return new AttemptOutcome.Killed();
            }

            return new AttemptOutcome.Exited(process.ExitCode);
        }
        finally
        {
            // The timer first (its DisposeAsync waits for a tick under way), then the log, under
            // the lock: no flush ever races the close.
            await flusher.DisposeAsync();
            lock (gate)
            {
                unflushed = false;
                try
                {
                    log.Dispose();
                }
                catch (IOException)
                {
                    // a full disk: the output is lost, the outcome stands
                }
            }
        }
    }
}
