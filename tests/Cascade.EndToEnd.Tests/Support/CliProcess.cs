using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// One running <c>cascade</c> child process with its output captured as it comes, so a test can
/// wait for a line, send a signal, and collect the exit code. Disposing kills it if it still runs.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    private readonly int _prefixCount;

    private CliProcess(Process process, int prefixCount) => (_process, _prefixCount) = (process, prefixCount);

    public int Id => _process.Id;

    public string StdOut
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StdErr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public static CliProcess Start(string workdir, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (program, prefix) = CascadeCli.Command;
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workdir,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in prefix.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        // As when a person pipes the output: no terminal width is handed down.
        info.Environment.Remove("COLUMNS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var cli = new CliProcess(process, prefix.Count);
        process.OutputDataReceived += (_, e) => cli.Append(cli._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Append(cli._stderr, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {info.FileName} {string.Join(' ', prefix)}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Waits (bounded) until the output so far satisfies <paramref name="condition"/>; fails the test otherwise.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> condition, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition(StdOut + StdErr))
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                if (condition(StdOut + StdErr))
                {
                    return;
                }

                Assert.Fail($"cascade exited (code {_process.ExitCode}) before {what}\n{Snapshot()}");
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0}s waiting for {what}\n{Snapshot()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System);
        }
    }

    /// <summary>Sends SIGTERM, as a service manager does to stop the scheduler.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -TERM {Id} failed with exit code {kill.ExitCode}");
    }

    /// <summary>Waits for the exit; past <paramref name="timeout"/> the process is killed and the test fails.</summary>
    public async Task<CliResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Assert.Fail($"cascade {string.Join(' ', _process.StartInfo.ArgumentList.Skip(_prefixCount))} did not exit within {timeout.TotalSeconds:0}s and was killed\n{Snapshot()}");
        }

        return new CliResult(_process.ExitCode, StdOut, StdErr);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }

        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            target.Append(line).Append('\n');
        }
    }

    private string Snapshot() => $"--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";

}
