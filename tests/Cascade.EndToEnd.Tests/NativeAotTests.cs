using System.Diagnostics;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Native AOT is the shipped form. scripts/test.sh publishes it once (scripts/aot-publish.sh: zero
/// trim/AOT warnings, they are errors) and names it in <c>CASCADE_CLI</c>, so every end-to-end test
/// runs the native binary; these tests check that binary (or, in the inner loop without
/// <c>CASCADE_CLI</c>, publish it themselves) and that it does on the demo what the JIT build does,
/// JSON included (reflection-based serialization is disabled there). The script installs clang
/// when it is missing and it runs as root; where it cannot, the publish test fails.
/// </summary>
public sealed class NativeAotTests : IDisposable
{
    private static readonly TimeSpan _hangGuard = TimeSpan.FromMinutes(20);

    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Under_CI_the_end_to_end_tests_run_the_native_binary()
    {
        if (Environment.GetEnvironmentVariable("CI") != "true" && CascadeCli.NativeBinary is null)
        {
            return; // the inner loop runs `dotnet cascade.dll`; CI must not
        }

        var binary = CascadeCli.NativeBinary;
        Assert.True(binary is not null, "CI=true but CASCADE_CLI is not set: run the suite with ./scripts/test.sh, which publishes the Native AOT binary and sets it");
        Assert.True(IsElf(binary), $"CASCADE_CLI='{binary}' is not a native (ELF) program");
        Assert.Equal(CascadeCli.Command.Program, binary);
        Assert.Empty(CascadeCli.Command.Prefix);
    }

    [Fact]
    public async Task The_native_AOT_binary_has_no_publish_warnings_and_runs_the_demo()
    {
        var published = CascadeCli.NativeBinary ?? await PublishAsync();
        var binary = AloneWithItsPackageFiles(published);

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

    /// <summary>Publishes with scripts/aot-publish.sh (every trim/AOT warning an error) and returns the binary.</summary>
    private static async Task<string> PublishAsync()
    {
        var (code, stdout, stderr) = await RunAsync(RepoRoot(), _hangGuard, "bash", "scripts/aot-publish.sh");
        var output = stdout + "\n--- stderr ---\n" + stderr;
        Assert.True(code == 0, $"the Native AOT publish failed (a trim/AOT warning is an error)\n{output}");
        Assert.DoesNotContain("warning IL", output, StringComparison.Ordinal);
        var binary = stdout.TrimEnd().Split('\n')[^1].Trim();
        Assert.True(File.Exists(binary), $"no binary at '{binary}'\n{output}");
        return binary;
    }

    /// <summary>
    /// A copy of the binary in a folder of its own with only what the tool package puts beside it
    /// (<c>libe_sqlite3.so</c>; scripts/pack.sh), so the demo below proves the package is enough.
    /// </summary>
    private string AloneWithItsPackageFiles(string published)
    {
        var from = Path.GetDirectoryName(published)!;
        var dir = Directory.CreateDirectory(Path.Combine(_ws.Root, "tool")).FullName;
        foreach (var name in new[] { Path.GetFileName(published), "libe_sqlite3.so" })
        {
            Assert.True(File.Exists(Path.Combine(from, name)), $"the native binary ships with {name} beside it, and {from} has none");
            File.Copy(Path.Combine(from, name), Path.Combine(dir, name));
        }

        var binary = Path.Combine(dir, Path.GetFileName(published));
        return binary;
    }

    private static bool IsElf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var file = File.OpenRead(path);
        return file.Read(magic) == 4 && magic.SequenceEqual("\u007fELF"u8);
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
