using System.Diagnostics;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// A real `cascade run` process killed mid-run (SIGKILL) or stopped (SIGTERM): no run is lost, and
/// a run in flight is activated at most once more.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const string Pipeline = """
        jobs:
          src:
            run: external
          slow:
            after: [src]
            run: { command: [sh, jobs/slow.sh] }
          next:
            after: [slow]
            run: { command: [sh, -c, 'echo "$CASCADE_JOB" >> next.log'] }
        """;

    private const string Slow = """
        #!/bin/sh
        echo "start $$" >> starts.log
        sleep 1
        echo "end $$" >> ends.log
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cascade-crash-" + Guid.NewGuid().ToString("N")[..12]);

    public CrashTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "jobs"));
        Directory.CreateDirectory(Path.Combine(_dir, "markers"));
        File.WriteAllText(Path.Combine(_dir, "cascade.yaml"), Pipeline);
        File.WriteAllText(Path.Combine(_dir, "jobs", "slow.sh"), Slow);
        File.WriteAllText(Path.Combine(_dir, "markers", "src__20190312.done"), "");
    }

    [Fact]
    public async Task A_scheduler_killed_with_SIGKILL_mid_run_loses_no_run_after_restart()
    {
        using (var scheduler = StartScheduler("run", "--no-web"))
        {
            await WaitUntilAsync(() => Lines("starts.log") >= 1, "slow to start");
            scheduler.Kill(entireProcessTree: false); // SIGKILL to the scheduler only: its child keeps running, as in a real crash
            await scheduler.WaitForExitAsync();
        }

        var afterCrash = await StatusAsync();
        Assert.Equal("running", afterCrash["slow"]);

        using (var again = StartScheduler("run", "--no-web", "--until-idle"))
        {
            await again.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, again.ExitCode);
        }

        var status = await StatusAsync();
        Assert.Equal("succeeded", status["slow"]);
        Assert.Equal("succeeded", status["next"]);
        Assert.InRange(Lines("starts.log"), 1, 2); // at-least-once across a crash, never more than once more
        Assert.Equal(1, Lines("next.log"));        // downstream exactly once
        Assert.InRange(Lines("ends.log"), 1, Lines("starts.log")); // an orphan still running at the restart was killed (ADR 7)
    }

    [Fact]
    public async Task Regression_8_05_after_SIGKILL_of_the_scheduler_its_orphaned_command_is_ended_before_the_run_starts_again()
    {
        // The job holds a lock for its whole life (the kernel drops it when the last process of the
        // attempt's tree dies) and records its start and end: a second attempt that finds the lock
        // taken, or overlapping times, is the same run active twice at once.
        File.WriteAllText(Path.Combine(_dir, "jobs", "slow.sh"), """
            #!/bin/bash
            exec 9>>slow.lock
            flock -n 9 || echo "overlap $$" >> overlap.log
            echo "start $$ $EPOCHREALTIME" >> times.log
            echo "start $$" >> starts.log
            sleep 4
            echo "end $$ $EPOCHREALTIME" >> times.log
            """);
        File.WriteAllText(Path.Combine(_dir, "cascade.yaml"), Pipeline.Replace("[sh, jobs/slow.sh]", "[bash, jobs/slow.sh]", StringComparison.Ordinal));
        using (var scheduler = StartScheduler("run", "--no-web"))
        {
            await WaitUntilAsync(() => Lines("starts.log") >= 1, "slow to start");
            scheduler.Kill(entireProcessTree: false); // SIGKILL to the scheduler only: its command keeps running
            await scheduler.WaitForExitAsync();
        }

        var orphan = int.Parse(File.ReadAllLines(Path.Combine(_dir, "starts.log"))[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsAlive(orphan), "the first attempt should outlive the killed scheduler");

        using (var again = StartScheduler("run", "--no-web", "--until-idle"))
        {
            await again.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, again.ExitCode);
        }

        Assert.False(IsAlive(orphan), "the orphaned first attempt is still running");
        Assert.Equal(0, Lines("overlap.log")); // attempt 2 never found attempt 1's lock still held
        var times = File.ReadAllLines(Path.Combine(_dir, "times.log")).Select(l => l.Split(' ')).ToList();
        Assert.Equal(2, times.Count(t => t[0] == "start"));
        var ends = times.Where(t => t[0] == "end").ToList();
        Assert.Equal(ends[0][1], times.Last(t => t[0] == "start")[1]); // only the re-run ended: attempt 1 was killed, not left to finish
        Assert.Single(ends);
        Assert.Equal("succeeded", (await StatusAsync())["slow"]);
    }

    [Fact]
    public async Task SIGTERM_lets_the_running_job_finish_and_starts_nothing_new()
    {
        using (var scheduler = StartScheduler("run", "--no-web"))
        {
            await WaitUntilAsync(() => Lines("starts.log") >= 1, "slow to start");
            using (var kill = Process.Start("kill", ["-TERM", scheduler.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await scheduler.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, scheduler.ExitCode);
        }

        Assert.Equal(1, Lines("ends.log")); // waited for it
        var status = await StatusAsync();
        Assert.Equal("succeeded", status["slow"]);
        Assert.Equal("queued", status["next"]); // decided, durable, not started while stopping
        Assert.Equal(0, Lines("next.log"));

        using (var again = StartScheduler("run", "--no-web", "--until-idle"))
        {
            await again.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        Assert.Equal(1, Lines("next.log"));
        Assert.Equal(1, Lines("starts.log"));
    }

    [Theory]
    [InlineData("wait", 1)]
    [InlineData("resend", 2)]
    public async Task Regression_11_a_remote_run_waiting_for_its_marker_across_a_SIGKILL_is_not_activated_again_as_a_new_attempt(string onRestart, int activations)
    {
        using var receiver = new ActivationReceiver(_ => Task.FromResult(202));
        File.WriteAllText(Path.Combine(_dir, "cascade.yaml"), $$"""
            jobs:
              src:
                run: external
              remote:
                after: [src]
                run_timeout: 1h
                run:
                  http:
                    url: "{{receiver.Url}}start"
                    body: { name: "{run_id}", attempt: "{attempt}" }
                    on_restart: {{onRestart}}
            """);
        using (var scheduler = StartScheduler("run", "--no-web"))
        {
            await WaitUntilAsync(() => !receiver.Bodies.IsEmpty, "the activation");
            await WaitUntilAsync(() => Log("remote.g1-a1.log").Contains("the run stays running until its marker appears", StringComparison.Ordinal), "the wait for the marker");
            scheduler.Kill(entireProcessTree: false);
            await scheduler.WaitForExitAsync();
        }

        Assert.Equal("running", (await StatusAsync())["remote"]);
        using (var again = StartScheduler("run", "--no-web", "--until-idle"))
        {
            var taken = onRestart == "wait" ? "not sent again (on_restart: wait)" : "sending it again (on_restart: resend";
            await WaitUntilAsync(() => Log("remote.g1-a1.log").Contains(taken, StringComparison.Ordinal), "the take-over of the attempt");
            await WaitUntilAsync(() => receiver.Bodies.Count >= activations, $"{activations} activation(s)");
            var why = await CliAsync("why", "remote", "20190312");
            Assert.Contains(onRestart == "wait" ? "not sent again (on_restart: wait); waiting for its marker until run_timeout at" : "after a restart (on_restart: resend; same attempt", why, StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(_dir, "markers", "remote__20190312.done"), "");
            await again.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, again.ExitCode);
        }

        Assert.Equal("succeeded", (await StatusAsync())["remote"]);
        var names = receiver.Bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("name").GetString()).ToList();
        Assert.Equal(Enumerable.Repeat("remote__20190312__g1a1", activations), names);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private Process StartScheduler(params string[] args)
    {
        var (program, prefix) = CascadeCli.Command;
        var info = new ProcessStartInfo(program) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private string Log(string name)
    {
        var path = Path.Combine(_dir, ".cascade", "logs", "20190312", name);
        return File.Exists(path) ? File.ReadAllText(path) : string.Empty;
    }

    private async Task<string> CliAsync(params string[] args)
    {
        var (program, prefix) = CascadeCli.Command;
        var info = new ProcessStartInfo(program) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return stdout;
    }

    private async Task<Dictionary<string, string>> StatusAsync()
    {
        var (program, prefix) = CascadeCli.Command;
        var info = new ProcessStartInfo(program) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix)
        {
            info.ArgumentList.Add(a);
        }

        info.ArgumentList.Add("status");
        info.ArgumentList.Add("--json");
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("job").GetString()!, r => r.GetProperty("state").GetString()!);
    }

    /// <summary>A zombie (dead, not yet reaped) is not alive.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private int Lines(string file)
    {
        var path = Path.Combine(_dir, file);
        return File.Exists(path) ? File.ReadAllLines(path).Length : 0;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting for {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }
}
