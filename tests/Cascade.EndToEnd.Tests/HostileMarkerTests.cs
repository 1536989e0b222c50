using System.Diagnostics;
using System.Net.Sockets;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>Issue 8, items 8 and 18: hostile entries in the marker folder are warnings for `cascade run`, never a crash, on every restart.</summary>
public sealed class HostileMarkerTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Regression_8_08_links_to_dev_zero_and_a_3_GiB_file_a_fifo_a_socket_and_a_folder_are_warnings_on_every_start()
    {
        var jobs = new[] { "zero", "huge", "outside", "fifo", "socket", "folder", "plain" };
        _ws.Write("cascade.yaml", "jobs:\n" + string.Concat(jobs.Select(j => $"""
              {j}:
                run: external
              after_{j}:
                after: [{j}]
                run: {"{"} command: [sh, -c, 'echo "$CASCADE_PARAMS" > ran_{j}.txt'] {"}"}

            """)));
        var markers = _ws.PathOf("markers");
        Directory.CreateDirectory(markers);
        string M(string job) => Path.Combine(markers, $"{job}__20190312.done");
        File.CreateSymbolicLink(M("zero"), "/dev/zero");
        await using (var f = File.Create(_ws.PathOf("huge.bin")))
        {
            f.SetLength(3L * 1024 * 1024 * 1024);
        }

        File.CreateSymbolicLink(M("huge"), _ws.PathOf("huge.bin"));
        _ws.Write("outside.json", """{"params": {"x": "injected"}}""");
        File.CreateSymbolicLink(M("outside"), _ws.PathOf("outside.json"));
        using (var mkfifo = Process.Start("mkfifo", [M("fifo")]))
        {
            await mkfifo.WaitForExitAsync();
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(M("socket")));
        Directory.CreateDirectory(M("folder"));
        _ws.Write("markers/plain__20190312.done", "");

        for (var start = 1; start <= 2; start++)
        {
            var run = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

            Assert.DoesNotContain("internal error", run.Output, StringComparison.Ordinal);
            foreach (var job in jobs.SkipLast(1))
            {
                Assert.False(_ws.Exists($"ran_{job}.txt"), $"start {start}: after_{job} ran on a marker that is not a regular file\n{run}");
                if (start == 1)
                {
                    Assert.Contains($"ignored marker '{job}__20190312.done'", run.StdErr, StringComparison.Ordinal);
                }
            }

            Assert.True(_ws.Exists("ran_plain.txt"), run.ToString());
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Regression_8_08_a_marker_the_scheduler_may_not_read_is_a_warning_on_every_start_not_a_crash()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
              down:
                after: [upstream]
                run: { command: [sh, -c, 'echo ran > down.txt'] }
            """);
        _ws.Write("markers/upstream__20190312.done", """{"params": {"a": "1"}}""");
        File.SetUnixFileMode(_ws.PathOf("markers", "upstream__20190312.done"), UnixFileMode.None);

        // Root reads any file: the scheduler then runs as an unprivileged user (nobody), for whom mode 000 means no.
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            foreach (var dir in new[] { _ws.Root, _ws.PathOf("markers") })
            {
                File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
            }
        }

        for (var start = 1; start <= 2; start++)
        {
            var run = await RunMaybeUnprivilegedAsync(asRoot, "run", "--until-idle");

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.DoesNotContain("internal error", run.Output, StringComparison.Ordinal);
            if (start == 1)
            {
                Assert.Contains("ignored marker 'upstream__20190312.done': it cannot be read (permission denied)", run.StdErr, StringComparison.Ordinal);
            }

            Assert.False(_ws.Exists("down.txt"), "a run started on a marker whose params could not be read");
        }
    }

    private async Task<CliResult> RunMaybeUnprivilegedAsync(bool asRoot, params string[] args)
    {
        if (!asRoot)
        {
            return await CascadeCli.RunAsync(_ws.Root, args);
        }

        var info = new ProcessStartInfo("setpriv") { WorkingDirectory = _ws.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var (program, prefix) = CascadeCli.Command;
        foreach (var a in new[] { "--reuid", "65534", "--regid", "65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp", program }.Concat(prefix).Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync().WaitAsync(CascadeCli.Timeout);
            return new CliResult(p.ExitCode, await stdout, await stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"this test needs setpriv to drop root: {e.Message}");
            throw;
        }
    }
}
