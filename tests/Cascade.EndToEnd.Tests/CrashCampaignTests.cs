using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// The short crash campaign (bench/Cascade.Bench `crash`, issue 8): `cascade run` as a real process,
/// SIGKILLed 5 times at random moments over a DAG of 300 command runs, restarted each time. Nothing
/// is lost, every succeeded run has its marker, no run is active twice at once, and every extra
/// activation was paid for by a kill that hit the run in flight. The long campaign is the same
/// program with `--runs 900 --kills 40` (docs/guarantees.md).
/// </summary>
public sealed class CrashCampaignTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"cascade-crash-campaign-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_out);

    [Fact]
    public async Task Five_SIGKILLs_over_300_runs_lose_nothing_double_nothing_and_leave_every_marker()
    {
        var (exitCode, output) = await RunAsync("crash", "--runs", "300", "--kills", "5", "--out", _out);

        Assert.True(File.Exists(_out), $"no JSON at {_out}\n{output}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(_out));
        var r = json.RootElement;
        Assert.True(exitCode == 0, $"the campaign exited {exitCode}\n{output}");
        Assert.Equal(300, r.GetProperty("runs").GetInt32());
        Assert.Equal(5, r.GetProperty("kills").GetInt32());
        Assert.Equal(0, r.GetProperty("lost_runs").GetInt32());
        Assert.Equal(0, r.GetProperty("missing_markers").GetInt32());
        Assert.Equal(0, r.GetProperty("active_twice_at_once").GetInt32());
        Assert.Equal(0, r.GetProperty("runs_with_extra_beyond_their_kills").GetInt32());
        Assert.Equal(0, r.GetProperty("reactivations_without_a_kill").GetInt32());
        Assert.True(r.GetProperty("activations").GetInt32() >= 300, output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cascade.Bench.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // a hang guard; the campaign takes 35-45 s
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"the crash campaign did not finish within 5 minutes\n{output}");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
