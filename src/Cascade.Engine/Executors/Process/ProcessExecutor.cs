using System.ComponentModel;
using System.Text.Json;
using Cascade.Core.Scheduling;
using SystemProcess = System.Diagnostics.Process;
using ProcessStartInfo = System.Diagnostics.ProcessStartInfo;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Runs a command as a child process, never through a shell: the rendered argv goes to
/// <see cref="ProcessStartInfo.ArgumentList"/>. The working directory is the pipeline's folder; a
/// relative program path (one with a '/') is resolved against it. Output (stdout and stderr,
/// interleaved by line) goes to the attempt's log file.
/// </summary>
public sealed class ProcessExecutor(string workingDirectory) : IExecutor
{
    public string WorkingDirectory { get; } = Path.GetFullPath(workingDirectory);

    public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
    {
        var program = activation.Argv[0];
        if (program.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(program))
        {
            program = Path.GetFullPath(Path.Combine(WorkingDirectory, program));
        }

        var info = new ProcessStartInfo(program)
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

        foreach (var (name, value) in activation.Values)
        {
            info.Environment["CASCADE_" + name.ToUpperInvariant()] = value;
        }

        info.Environment["CASCADE_MARKER"] = context.MarkerLocation;
        info.Environment["CASCADE_PARAMS"] = activation.Params.Count == 0 ? "{}" : JsonSerializer.Serialize(activation.Params, EngineJson.Default.IReadOnlyDictionaryStringString);
        info.Environment["CASCADE_ATTEMPT"] = activation.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // The process starts first; its log file is created right after (the output waits in the
        // pipe meanwhile), so creating a file is not on the path from marker to started process.
        StreamWriter? log = null;
        var gate = new object();
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                log!.WriteLine(line);
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
        await using var logScope = log;
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
            Write("[cascade] killed: the scheduler stopped");
            return new AttemptOutcome.Killed();
        }

        lock (gate)
        {
            log.Flush();
        }

        return new AttemptOutcome.Exited(process.ExitCode);
    }
}
