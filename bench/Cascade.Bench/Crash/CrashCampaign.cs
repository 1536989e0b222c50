using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;

namespace Cascade.Bench.Crash;

/// <summary>
/// The crash campaign (issue 8): a generated DAG of 10 command jobs over N/10 days below one
/// external root, `cascade run` started as a real process and SIGKILLed at random moments (the
/// scheduler only: its commands live on, as in a real crash), restarted each time, then run
/// undisturbed to the end. It checks: no run lost, every succeeded run has its marker, no run
/// active twice at once, and every extra activation paid for by a kill that hit the run in flight.
/// Every job takes a lock for its whole life (the kernel frees it when the attempt's last process
/// dies) and logs its start and end, so an overlap is seen even when the older attempt never ends.
/// </summary>
internal static class CrashCampaign
{
    public const string Name = "crash";

    private const int Jobs = 10;

    private const string JobScript = """
        #!/bin/bash
        echo "start $CASCADE_JOB $CASCADE_PARTITION $CASCADE_ATTEMPT $$ $EPOCHREALTIME" >> activity.log
        run="${CASCADE_JOB}__${CASCADE_PARTITION}"
        exec 9>>"locks/$run.lock"
        flock -n 9 || echo "$run attempt $CASCADE_ATTEMPT pid $$ found an attempt still running" >> overlaps.log
        # most attempts are short; one in twenty outlives a scheduler's restart (about 2.5 s) if it is orphaned
        if (( RANDOM % 20 == 0 )); then sleep "$(( RANDOM % 2 + 3 )).$(( RANDOM % 10 ))"; else sleep "0.$(( RANDOM % 4 + 1 ))"; fi
        echo "end $CASCADE_JOB $CASCADE_PARTITION $CASCADE_ATTEMPT $$ $EPOCHREALTIME" >> activity.log
        """;

    public static async Task<int> MainAsync(IReadOnlyList<string> args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine(CrashOptions.Usage);
            return 0;
        }

        CrashOptions options;
        try
        {
            options = CrashOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{CrashOptions.Usage}");
            return 2;
        }

        Workdir.Keep = options.Keep;
        try
        {
            return await RunAsync(options);
        }
        finally
        {
            Workdir.DeleteAll();
        }
    }

    private static async Task<int> RunAsync(CrashOptions o)
    {
        var clock = Stopwatch.GetTimestamp();
        var random = new Random(o.Seed);
        using var dir = Workdir.Create(Name);
        var days = Math.Max(1, o.Runs / Jobs);
        var jobs = WritePipeline(dir, random, days);
        Console.WriteLine($"crash campaign: {jobs.Count} jobs x {days} days = {jobs.Count * days} command runs, {o.Kills} SIGKILLs, seed {o.Seed}; in {dir.Root}");

        var kills = new List<double>();
        var problems = new List<string>();
        using var log = new StreamWriter(Path.Combine(dir.Root, "scheduler.log"), append: true) { AutoFlush = true };
        for (var k = 0; k < o.Kills; k++)
        {
            using var scheduler = Start(dir, log, "run", "--no-web");
            var life = TimeSpan.FromMilliseconds(random.Next(200, 2500));
            using var lived = new CancellationTokenSource(life);
            try
            {
                await scheduler.WaitForExitAsync(lived.Token);
                problems.Add($"life {k + 1}: the scheduler exited on its own with code {scheduler.ExitCode} (see scheduler.log)");
                continue;
            }
            catch (OperationCanceledException)
            {
                // time to kill it
            }

            kills.Add(Now());
            scheduler.Kill(entireProcessTree: false); // SIGKILL; its commands keep running
            await scheduler.WaitForExitAsync();
        }

        using (var last = Start(dir, log, "run", "--no-web", "--until-idle"))
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(15));
            await last.WaitForExitAsync(bound.Token);
            if (last.ExitCode != 0)
            {
                problems.Add($"the last, undisturbed `cascade run --until-idle` exited {last.ExitCode} (see scheduler.log)");
            }
        }

        var report = await JudgeAsync(dir, jobs, days, kills, problems);
        report["seed"] = o.Seed;
        report["kills"] = kills.Count;
        report["kill_times"] = new JsonArray([.. kills.Select(k => (JsonNode?)JsonValue.Create(k))]);
        report["wall_seconds"] = Math.Round(Stats.MsSince(clock) / 1000, 1);
        await Report.WriteJsonAsync(o.Out, report);
        Console.WriteLine($"JSON: {Path.GetFullPath(o.Out)}");
        foreach (var p in problems)
        {
            await Console.Error.WriteLineAsync($"BROKEN: {p}");
        }

        Console.WriteLine(problems.Count == 0 ? "every check held" : $"{problems.Count} check(s) broke");
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<JsonObject> JudgeAsync(Workdir dir, List<string> jobs, int days, List<double> kills, List<string> problems)
    {
        var status = await Shell.CascadeAsync(dir.Root, "status", "--json");
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        if (status.ExitCode == 0)
        {
            using var doc = JsonDocument.Parse(status.StdOut);
            foreach (var r in doc.RootElement.EnumerateArray())
            {
                states[$"{r.GetProperty("job").GetString()}__{r.GetProperty("partition").GetString()}"] = r.GetProperty("state").GetString()!;
            }
        }
        else
        {
            problems.Add($"`cascade status --json` exited {status.ExitCode}: {status.StdErr.Trim()}");
        }

        var activity = Activity.Read(Path.Combine(dir.Root, "activity.log"));
        int lost = 0, missingMarkers = 0, activations = 0, extra = 0, maxExtra = 0, overPaid = 0;
        foreach (var job in jobs.Prepend("src"))
        {
            for (var d = 0; d < days; d++)
            {
                var run = $"{job}__{Workdir.Day(d)}";
                if (states.GetValueOrDefault(run) != "succeeded")
                {
                    lost++;
                    Note(problems, lost, $"lost: {run} is {states.GetValueOrDefault(run) ?? "unknown to the state"}");
                }
                else if (!File.Exists(dir.MarkerPath(job, Workdir.Day(d))))
                {
                    missingMarkers++;
                    Note(problems, missingMarkers, $"marker missing: {run} succeeded but markers/{run}.done is not there");
                }

                if (job == "src")
                {
                    continue;
                }

                var attempts = activity.ByRun.GetValueOrDefault(run) ?? [];
                activations += attempts.Count;
                var more = Math.Max(0, attempts.Count - 1);
                extra += more;
                maxExtra = Math.Max(maxExtra, more);
                var hits = attempts.Count == 0 ? 0 : kills.Count(k => k > attempts[0].Start - Activity.StartSlack && k < attempts[^1].Start);
                if (more > hits)
                {
                    overPaid++;
                    Note(problems, overPaid, $"{run} was activated {attempts.Count} times but only {hits} kill(s) hit it in flight");
                }
            }
        }

        var overlapLines = File.Exists(Path.Combine(dir.Root, "overlaps.log")) ? File.ReadAllLines(Path.Combine(dir.Root, "overlaps.log")).Length : 0;
        var overlaps = overlapLines + activity.OverlappingPairs();
        if (overlaps > 0)
        {
            problems.Add($"{overlaps} time(s) a run was active twice at once (overlaps.log: {overlapLines}; overlapping start/end pairs: {activity.OverlappingPairs()})");
        }

        var unjustified = activity.UnjustifiedReactivations(kills);
        if (unjustified > 0)
        {
            problems.Add($"{unjustified} re-activation(s) with no kill since the attempt before");
        }

        var hitRuns = activity.ByRun.Values.SelectMany(l => l).Count(a => Activity.KillsDuring(a, kills) > 0);
        var runs = jobs.Count * days;
        Console.WriteLine($"runs {runs} (+{days} external); kills {kills.Count}, attempts found running by a kill {hitRuns}");
        Console.WriteLine($"lost runs {lost}; succeeded runs whose marker is missing {missingMarkers}; runs active twice at once {overlaps}");
        Console.WriteLine($"activations {activations}; extra activations {extra} (at most {maxExtra} for one run); extra beyond the kills that hit the run {overPaid}; re-activations without a kill {unjustified}");
        return new JsonObject
        {
            ["runs"] = runs,
            ["external_runs"] = days,
            ["attempts_hit_by_a_kill"] = hitRuns,
            ["lost_runs"] = lost,
            ["missing_markers"] = missingMarkers,
            ["active_twice_at_once"] = overlaps,
            ["activations"] = activations,
            ["extra_activations"] = extra,
            ["max_extra_activations_of_one_run"] = maxExtra,
            ["runs_with_extra_beyond_their_kills"] = overPaid,
            ["reactivations_without_a_kill"] = unjustified,
            ["problems"] = new JsonArray([.. problems.Select(p => (JsonNode?)JsonValue.Create(p))]),
        };
    }

    private static void Note(List<string> problems, int count, string what)
    {
        if (count <= 10)
        {
            problems.Add(what);
        }
    }

    /// <summary>A random DAG: job k after one or two of the jobs before it (job 0 after the external root).</summary>
    private static List<string> WritePipeline(Workdir dir, Random random, int days)
    {
        var names = Enumerable.Range(0, Jobs).Select(i => $"j{i:00}").ToList();
        var yaml = new StringBuilder("# generated by Cascade.Bench crash\nmarkers: {folder: ./markers}\nstate: sqlite:.cascade/state.db\njobs:\n  src: {run: external}\n");
        for (var i = 0; i < names.Count; i++)
        {
            var after = i == 0
                ? ["src"]
                : Enumerable.Range(0, random.Next(1, 3)).Select(_ => names[random.Next(0, i)]).Distinct().ToList();
            yaml.Append(CultureInfo.InvariantCulture, $"  {names[i]}:\n    after: [{string.Join(", ", after)}]\n    run: {{command: [bash, jobs/job.sh]}}\n");
        }

        File.WriteAllText(dir.PipelineFile, yaml.ToString());
        Directory.CreateDirectory(Path.Combine(dir.Root, "jobs"));
        Directory.CreateDirectory(Path.Combine(dir.Root, "locks"));
        File.WriteAllText(Path.Combine(dir.Root, "jobs", "job.sh"), JobScript.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        for (var d = 0; d < days; d++)
        {
            File.WriteAllText(dir.MarkerPath("src", Workdir.Day(d)), string.Empty);
        }

        return names;
    }

    private static Process Start(Workdir dir, StreamWriter log, params string[] args)
    {
        var process = Shell.Create(Shell.DotnetHost, [Shell.CascadeDll, .. args], dir.Root);
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        lock (log)
        {
            log.WriteLine($"--- cascade {string.Join(' ', args)}");
        }

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Wall-clock seconds since the epoch, the clock of the jobs' <c>$EPOCHREALTIME</c>.</summary>
    private static double Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
}
