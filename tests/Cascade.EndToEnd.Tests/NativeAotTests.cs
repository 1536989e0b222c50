using System.Diagnostics;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Native AOT is the shipped form: the publish must give zero trim/AOT warnings (they are errors
/// in <c>scripts/aot-publish.sh</c>), and the native binary must do on the demo what the JIT build
/// does, JSON included (reflection-based serialization is disabled there). The script installs
/// clang when it is missing and it runs as root; where it cannot, this test fails.
/// </summary>
public sealed class NativeAotTests : IDisposable
{
    private static readonly TimeSpan _hangGuard = TimeSpan.FromMinutes(20);

    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_native_AOT_publish_has_no_warnings_and_the_binary_runs_the_demo()
    {
        var (code, stdout, stderr) = await RunAsync(RepoRoot(), _hangGuard, "bash", "scripts/aot-publish.sh");
        var output = stdout + "\n--- stderr ---\n" + stderr;
        Assert.True(code == 0, $"the Native AOT publish failed (a trim/AOT warning is an error)\n{output}");
        Assert.DoesNotContain("warning IL", output, StringComparison.Ordinal);
        var binary = stdout.TrimEnd().Split('\n')[^1].Trim();
        Assert.True(File.Exists(binary), $"no binary at '{binary}'\n{output}");

        var minute = TimeSpan.FromMinutes(1);
        await Run(_ws.Root, binary, minute, 0, "init", "demo");
        var demo = Path.Combine(_ws.Root, "demo");
        await Run(demo, binary, minute, 0, "validate");
        var first = await Run(demo, binary, minute, 0, "run", "--until-idle", "--quiet");
        Assert.Contains("58 succeeded", first, StringComparison.Ordinal);

        await Run(demo, binary, minute, 0, "done", "game_logs", "2019-03-13", "--param", "region=us", "--meta", "files=12");
        await Run(demo, binary, minute, 0, "run", "--until-idle", "--quiet");
        using (var status = JsonDocument.Parse(await Run(demo, binary, minute, 0, "status", "--partition", "20190313", "--json")))
        {
            var player = status.RootElement.EnumerateArray().Single(r => r.GetProperty("job").GetString() == "player_entry");
            Assert.Equal("succeeded", player.GetProperty("state").GetString());
            Assert.Equal("us", player.GetProperty("params").GetProperty("region").GetString());
        }

        await Run(demo, binary, minute, 0, "trigger", "sessions", "2019-03-14");
        using var plan = JsonDocument.Parse(await Run(demo, binary, minute, 0, "replay", "revenue", "2019-03-11", "--downstream", "--dry-run", "--json"));
        Assert.True(plan.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array);
    }

    private static async Task<string> Run(string workdir, string binary, TimeSpan bound, int expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(workdir, bound, binary, args);
        Assert.True(code == expected, $"cascade {string.Join(' ', args)} exited {code}, expected {expected}\n{stdout}\n--- stderr ---\n{stderr}");
        return stdout;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cascade.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Cascade.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a program to its end (bounded: a hang fails the test).</summary>
    private static async Task<(int Code, string StdOut, string StdErr)> RunAsync(string workdir, TimeSpan bound, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workdir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', args)} did not end within {bound.TotalMinutes:0} min");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
