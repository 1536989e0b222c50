using System.Globalization;
using Cascade.Core.Model;
using Cascade.Engine.State;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Replay;

/// <summary>Scripts and small helpers for the replay, backfill and cancel integration tests.</summary>
internal static class ReplaySupport
{
    /// <summary>Appends "JOB PARTITION RUN_ID" to runs.log (one line per attempt that finished).</summary>
    public const string Record = """
        #!/bin/sh
        echo "$CASCADE_JOB $CASCADE_PARTITION $CASCADE_RUN_ID" >> runs.log
        """;

    /// <summary>Generation 1 sleeps 30 s (its pid in pid.JOB.PARTITION.RUN_ID, written atomically); later generations record themselves at once.</summary>
    public const string SlowFirstGeneration = """
        #!/bin/sh
        echo $$ > "tmp.$CASCADE_RUN_ID" && mv "tmp.$CASCADE_RUN_ID" "pid.$CASCADE_JOB.$CASCADE_PARTITION.$CASCADE_RUN_ID"
        case "$CASCADE_RUN_ID" in *__g1a*) exec sleep 30 ;; esac
        echo "$CASCADE_JOB $CASCADE_PARTITION $CASCADE_RUN_ID" >> runs.log
        """;

    /// <summary>Leaves started.RUN_ID; generation 1 records itself at once, later generations wait (at most 10 s) for a file named "go" first.</summary>
    public const string LaterGenerationsWaitForGo = """
        #!/bin/sh
        touch "started.$CASCADE_RUN_ID"
        case "$CASCADE_RUN_ID" in
          *__g1a*) ;;
          *) i=0; while [ ! -f go ] && [ "$i" -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done ;;
        esac
        echo "$CASCADE_JOB $CASCADE_PARTITION $CASCADE_RUN_ID" >> runs.log
        """;

    /// <summary>Counts how many of us run at once (a lock-free counter of files), then works 0.05 s.</summary>
    public const string Concurrency = """
        #!/bin/sh
        touch "running.$CASCADE_JOB.$CASCADE_PARTITION"
        ls running.* | wc -l >> concurrency.log
        sleep 0.05
        rm "running.$CASCADE_JOB.$CASCADE_PARTITION"
        echo "$CASCADE_JOB $CASCADE_PARTITION $CASCADE_RUN_ID" >> runs.log
        """;

    /// <summary>Runs 30 s, its pid in pid.JOB.PARTITION, written atomically (the process is the sleep itself).</summary>
    public const string Long = """
        #!/bin/sh
        echo $$ > "tmp.$CASCADE_RUN_ID" && mv "tmp.$CASCADE_RUN_ID" "pid.$CASCADE_JOB.$CASCADE_PARTITION"
        exec sleep 30
        """;

    public static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    public static Partition P(string text) => Partition.Parse(text);

    public static async Task<long> EnqueueAsync(this TempPipeline p, Request request)
    {
        await using var store = await p.OpenStoreAsync();
        return await store.EnqueueRequestAsync(request, CancellationToken.None);
    }

    public static Task<long> ReplayAsync(this TempPipeline p, string job, string from, string? to = null, bool downstream = false, bool force = false) =>
        p.EnqueueAsync(Request.ForReplay(job, P(from), P(to ?? from), downstream, force, Now));

    public static async Task<T> WithStoreAsync<T>(this TempPipeline p, Func<IStateStore, Task<T>> read)
    {
        await using var store = await p.OpenStoreAsync();
        return await read(store);
    }

    public static Task<IReadOnlyList<Core.Scheduling.Run>> GenerationsAsync(this TempPipeline p, string job, string partition) =>
        p.WithStoreAsync(async s => await s.QueryRunsAsync(new RunQuery { Job = job, Partition = partition, AllGenerations = true }, CancellationToken.None));

    public static Task<IReadOnlyList<AttemptRecord>> AttemptsAsync(this TempPipeline p, string job, string partition) =>
        p.WithStoreAsync(async s => await s.GetAttemptsAsync(TempPipeline.Key(job, partition), CancellationToken.None));

    /// <summary>The lines of a file the jobs append to (empty when it does not exist yet).</summary>
    public static List<string> Lines(this TempPipeline p, string relative = "runs.log") =>
        p.FileExists(relative) ? [.. p.ReadFile(relative).Split('\n', StringSplitOptions.RemoveEmptyEntries)] : [];

    /// <summary>"JOB PARTITION" of each line of runs.log, without the run id.</summary>
    public static List<string> Ran(this TempPipeline p) =>
        [.. p.Lines().Select(l => string.Join(' ', l.Split(' ').Take(2)))];

    /// <summary>The pids jobs wrote into files named <paramref name="prefix"/>*.</summary>
    public static List<int> Pids(this TempPipeline p, string prefix = "pid.") =>
        [.. Directory.EnumerateFiles(p.Dir, prefix + "*").Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture))];

    /// <summary>True while a process with this id exists and is not a zombie (Linux /proc).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds; returns whether it did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, double seconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }

        return true;
    }

    public static Task WaitAsync(Func<bool> condition, double seconds, string what) =>
        TempPipeline.WaitUntilAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(seconds), what);
}
