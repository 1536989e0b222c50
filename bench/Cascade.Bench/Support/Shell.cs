using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cascade.Bench.Support;

/// <summary>Child processes: one-shot commands with captured output, and the <c>dotnet</c> host.</summary>
internal static class Shell
{
    /// <summary>The result of a finished child process and its wall time (start → exit observed).</summary>
    public sealed record Result(int ExitCode, string StdOut, string StdErr, double WallMs);

    /// <summary>The <c>dotnet</c> host that runs this process (for <c>dotnet cascade.dll</c>).</summary>
    public static string DotnetHost { get; } = FindDotnet();

    /// <summary><c>cascade.dll</c>, copied beside the bench by the project reference.</summary>
    public static string CascadeDll { get; } = Path.Combine(AppContext.BaseDirectory, "cascade.dll");

    /// <summary>This bench's own dll, for <c>--child</c> runs.</summary>
    public static string BenchDll { get; } = Path.Combine(AppContext.BaseDirectory, "Cascade.Bench.dll");

    /// <summary>Runs a command to its end (killed after <paramref name="timeout"/>); output is captured, never echoed.</summary>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> args, string? workdir = null, TimeSpan? timeout = null)
    {
        using var process = Create(program, args, workdir);
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.Append(e.Data).Append('\n');
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Append(e.Data).Append('\n');
                }
            }
        };
        var start = Stopwatch.GetTimestamp();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not exit within {(timeout ?? TimeSpan.FromMinutes(5)).TotalSeconds:0}s; killed");
        }

        var wall = Stats.MsSince(start);
        lock (stdout)
        {
            lock (stderr)
            {
                return new Result(process.ExitCode, stdout.ToString(), stderr.ToString(), wall);
            }
        }
    }

    /// <summary>Runs <c>dotnet cascade.dll ARGS…</c> in <paramref name="workdir"/>.</summary>
    public static Task<Result> CascadeAsync(string workdir, params string[] args) =>
        RunAsync(DotnetHost, [CascadeDll, .. args], workdir);

    /// <summary>A process set up for redirected output (not started).</summary>
    public static Process Create(string program, IEnumerable<string> args, string? workdir)
    {
        var info = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workdir ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("COLUMNS");
        return new Process { StartInfo = info, EnableRaisingEvents = true };
    }

    /// <summary>The first line a command prints, or null when it cannot be run.</summary>
    public static async Task<string?> FirstLineAsync(string program, params string[] args)
    {
        var r = await TryRunAsync(program, args);
        return r?.StdOut.Split('\n').FirstOrDefault(l => l.Length > 0);
    }

    public static async Task<string?> LastLineAsync(string program, params string[] args)
    {
        var r = await TryRunAsync(program, args);
        return r?.StdOut.Split('\n').LastOrDefault(l => l.Length > 0);
    }

    /// <summary>Sends SIGTERM (as a service manager stops the scheduler) with <c>kill -TERM PID</c>.</summary>
    public static async Task TerminateAsync(Process process)
    {
        var r = await TryRunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (r is null && !process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static async Task<Result?> TryRunAsync(string program, string[] args)
    {
        try
        {
            var r = await RunAsync(program, args, timeout: TimeSpan.FromSeconds(20));
            return r.ExitCode == 0 ? r : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static string FindDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        // .../shared/Microsoft.NETCore.App/10.0.x/ → .../dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
