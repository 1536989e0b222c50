using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;

namespace Cascade.Bench.Scenarios;

/// <summary>Scenario 5: the CPU a running scheduler with nothing to do uses.</summary>
internal static class IdleScenario
{
    public const string Name = "idle";

    public static async Task<ScenarioReport> RunAsync(BenchOptions o)
    {
        var total = o.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(60);
        var settle = o.Quick ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(30);
        var windows = Math.Max(o.Runs, 1);
        var window = total / windows;
        var report = new ScenarioReport(Name, "Idle cost", $"""
            `dotnet cascade.dll run --no-web` on a 3-job pipeline (go external → a → b) whose markers are all present for
            one day, so it has nothing to do (its 0.5 s inbox poll of the state database and the pipeline's 30 s rescan
            still run). CPU time = utime + stime of /proc/PID/stat (Process.TotalProcessorTime, 10 ms ticks); '% of one
            core' = CPU time / wall time × 100. From the 'ready:' line, the first {settle.TotalSeconds:0.#} s are measured on
            their own ('settling': tiered JIT recompiles the poll path in the background for about half a minute after
            start, since a method needs 30 calls at one call per 0.5 s), then {total.TotalSeconds:0} s of steady idle, split
            into {windows} consecutive window(s) of {window.TotalSeconds:0.#} s (the table's runs; one process for all windows,
            as {windows} separate {total.TotalSeconds:0} s runs would not fit the time budget), and over the whole
            {total.TotalSeconds:0} s. Stopped with SIGTERM afterwards.
            """);
        report.Parameters["seconds"] = total.TotalSeconds;
        report.Parameters["windows"] = windows;
        report.Parameters["settle_seconds"] = settle.TotalSeconds;

        using var dir = Workdir.Create(Name);
        dir.WritePipeline([new JobSpec("go", []), new JobSpec("a", ["go"]), new JobSpec("b", ["a"])]);
        foreach (var job in new[] { "go", "a", "b" })
        {
            await File.WriteAllTextAsync(dir.MarkerPath(job, Workdir.Day(0)), string.Empty);
        }

        using var process = Shell.Create(Shell.DotnetHost, [Shell.CascadeDll, "run", "--no-web"], dir.Root);
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Append(e.Data).Append('\n');
            }

            if (e.Data.Contains(" ready: ", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Append(e.Data).Append('\n');
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            try
            {
                await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), TimeProvider.System);
            }
            catch (TimeoutException)
            {
                lock (output)
                {
                    throw new InvalidOperationException($"cascade run printed no 'ready:' within 60 s:\n{output}");
                }
            }

            process.Refresh();
            var settleCpu = process.TotalProcessorTime;
            var settleWall = Stopwatch.GetTimestamp();
            await Task.Delay(settle, TimeProvider.System);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            report.Record($"CPU while settling, first {settle.TotalSeconds:0.#} s after ready, % of one core", "%", (cpu0 - settleCpu).TotalMilliseconds / Stats.MsSince(settleWall) * 100);
            var wall0 = Stopwatch.GetTimestamp();
            var cpu = cpu0;
            var wall = wall0;
            for (var w = 0; w < windows; w++)
            {
                await Task.Delay(window, TimeProvider.System);
                process.Refresh();
                var cpuNow = process.TotalProcessorTime;
                var wallNow = Stopwatch.GetTimestamp();
                report.Record($"CPU per {window.TotalSeconds:0.#} s window, % of one core", "%", (cpuNow - cpu).TotalMilliseconds / Stats.Ms(wall, wallNow) * 100, Target.Below(1));
                cpu = cpuNow;
                wall = wallNow;
            }

            var overall = (cpu - cpu0).TotalMilliseconds / Stats.Ms(wall0, wall) * 100;
            report.Record($"CPU over the whole {total.TotalSeconds:0} s, % of one core", "%", overall, Target.Below(1));
            var rss = Machine.ProcKb($"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/status", "VmRSS");
            if (rss is { } kb)
            {
                report.Record("resident memory while idle (VmRSS)", "MB", kb / 1024.0);
            }

            report.RunDetails.Add(new JsonObject
            {
                ["cpu_ms"] = Math.Round((cpu - cpu0).TotalMilliseconds, 1),
                ["wall_ms"] = Math.Round(Stats.Ms(wall0, wall), 1),
                ["threads"] = process.Threads.Count,
            });
        }
        finally
        {
            if (!process.HasExited)
            {
                await Shell.TerminateAsync(process);
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(40));
                try
                {
                    await process.WaitForExitAsync(bound.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }

        return report;
    }
}
