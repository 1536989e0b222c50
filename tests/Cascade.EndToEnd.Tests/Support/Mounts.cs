using System.Diagnostics;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// Small file systems for fault tests (a full disk, a read-only folder), made with <c>mount</c>,
/// which needs root. Where it cannot be done the test fails when <c>CI=true</c> (CI runs as root)
/// and otherwise returns early, saying why.
/// </summary>
public sealed class Mounts : IAsyncDisposable
{
    private readonly List<string> _mounted = [];

    /// <summary>A tmpfs of <paramref name="size"/> (e.g. "512k") at <paramref name="dir"/>; false when mounting is not possible here.</summary>
    public Task<bool> TmpfsAsync(string dir, string size)
    {
        Directory.CreateDirectory(dir);
        return MountAsync(dir, ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", dir]);
    }

    /// <summary><paramref name="source"/> seen read-only at <paramref name="target"/> (a read-only bind mount).</summary>
    public async Task<bool> ReadOnlyViewAsync(string source, string target)
    {
        Directory.CreateDirectory(target);
        return await MountAsync(target, ["--bind", source, target])
            && await MountAsync(target, ["-o", "remount,bind,ro", target], again: true);
    }

    /// <summary>Writes to <paramref name="dir"/> until the file system is full.</summary>
    public static void Fill(string dir)
    {
        var block = new byte[4096];
        using var filler = new FileStream(Path.Combine(dir, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // full
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _mounted.Count - 1; i >= 0; i--)
        {
            await RunAsync("umount", ["-l", _mounted[i]]);
        }
    }

    private async Task<bool> MountAsync(string dir, string[] args, bool again = false)
    {
        var (code, error) = await RunAsync("mount", args);
        if (code == 0)
        {
            if (!again)
            {
                _mounted.Add(dir);
            }

            return true;
        }

        var why = $"cannot mount ({string.Join(' ', args)}): {error.Trim()} — this test needs root";
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail(why);
        }

        Console.WriteLine($"not run: {why}");
        return false;
    }

    private static async Task<(int Code, string Error)> RunAsync(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(info)!;
            var error = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
