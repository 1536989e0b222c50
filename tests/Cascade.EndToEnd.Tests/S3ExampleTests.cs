using System.Diagnostics;
using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 11, done when <c>examples/s3</c> runs from the README: its one script (s3rver, the receiver
/// standing for Data Pipeline, <c>cascade run</c> with its API, the SNS-shaped notifications) runs the
/// chain player_entry → sessions/payments → revenue → bi_import for two days, with the scheduler under
/// test (<c>CASCADE_CLI</c>, the native binary under scripts/test.sh), well under a minute, and
/// leaves nothing running and nothing behind. Under <c>CI=true</c> a missing program, bash or Node.js fails.
/// </summary>
public sealed partial class S3ExampleTests : IDisposable
{
    private static readonly string[] Jobs = ["player_entry", "sessions", "payments", "revenue", "bi_import"];
    private static readonly string[] Partitions = ["20190312", "20190313"];

    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_s3_example_runs_every_job_once_per_day_from_notifications_well_under_a_minute_and_leaves_nothing_running()
    {
        if (Cascade() is not { } cascade || !File.Exists("/bin/bash") || !(OnPath("node") || Environment.UserName == "root"))
        {
            var why = $"{nameof(S3ExampleTests)}: needs bash, Node.js (scripts/s3rver.sh installs it as root) and a cascade program (CASCADE_CLI: scripts/test.sh publishes the native one and sets it)";
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", why);
            Console.WriteLine($"not run: {why}");
            return;
        }

        var clock = Stopwatch.StartNew();
        var run = await RunScriptAsync(cascade, TimeSpan.FromSeconds(120));
        var took = clock.Elapsed;

        run.AssertExitCode(0);
        Assert.True(took < TimeSpan.FromSeconds(30), $"examples/s3/run.sh took {took.TotalSeconds:0.0} s\n{run}");
        var output = run.StdOut;
        foreach (var partition in Partitions)
        {
            foreach (var job in Jobs)
            {
                // `cascade status`: one row per run, succeeded; the remote ones at their first attempt.
                var rows = StatusRow().Matches(output).Where(m => m.Groups["job"].Value == job && m.Groups["partition"].Value == partition).ToList();
                var row = Assert.Single(rows);
                Assert.Equal("succeeded", row.Groups["state"].Value);
                Assert.Equal(job == "player_entry" ? "0" : "1", row.Groups["attempt"].Value);
                if (job == "player_entry")
                {
                    continue;
                }

                // Started once by cascade, activated once at the receiver.
                Assert.Single(Regex.Matches(output, $@" {job} {partition}  started \(attempt 1\)$", RegexOptions.Multiline));
                var pipeline = "df-" + job.Replace('_', '-');
                Assert.Single(Regex.Matches(output, $@"receiver: ActivatePipeline {pipeline} for {partition}: activated", RegexOptions.Multiline));
            }
        }

        Assert.Equal(Jobs.Length * Partitions.Length, StatusRow().Count(output));
        Assert.Equal(8, Regex.Count(output, "started \\(attempt"));
        Assert.DoesNotContain("refused", output, StringComparison.Ordinal);
        Assert.Contains("ok: 10 runs (5 jobs x 2 partitions) succeeded, each activated once", output, StringComparison.Ordinal);
        Assert.Contains("cascade_notifications_total{otel_scope_name=\"Cascade\",outcome=\"queued\",source=\"http\"} 10", output, StringComparison.Ordinal);

        // Torn down: no process of the run is left (all of them ran in or named the script's temporary
        // folder, which is under ours), and the folder itself is gone.
        Assert.Empty(ProcessesUsing(_ws.Root));
        Assert.Empty(Directory.GetFileSystemEntries(_ws.Root));
    }

    /// <summary>The cascade program for the script: the native binary under test, else the JIT build's app host.</summary>
    private static string? Cascade()
    {
        if (CascadeCli.NativeBinary is { } native)
        {
            return native;
        }

        var host = Path.Combine(AppContext.BaseDirectory, "cascade");
        return File.Exists(host) ? host : null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, program)));

    private async Task<CliResult> RunScriptAsync(string cascade, TimeSpan bound)
    {
        var info = new ProcessStartInfo("/bin/bash")
        {
            WorkingDirectory = _ws.Root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(RepoRoot(), "examples", "s3", "run.sh"));
        info.Environment["CASCADE"] = cascade;
        info.Environment["TMPDIR"] = _ws.Root;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"examples/s3/run.sh did not end within {bound.TotalSeconds:0} s\n{await stdout}\n{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Processes whose command line or working folder names <paramref name="folder"/>.</summary>
    private static List<string> ProcessesUsing(string folder)
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                var cwd = new DirectoryInfo(Path.Combine(proc, "cwd")).LinkTarget ?? string.Empty;
                if (cmdline.Contains(folder, StringComparison.Ordinal) || cwd.StartsWith(folder, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(proc)}: {cmdline}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile, or not ours to read
            }
        }

        return found;
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

    [GeneratedRegex(@"^(?<job>[a-z_]+) +(?<partition>[0-9]{8}) +(?<state>[a-z_]+) +(?<attempt>[0-9]+) ", RegexOptions.Multiline)]
    private static partial Regex StatusRow();
}
