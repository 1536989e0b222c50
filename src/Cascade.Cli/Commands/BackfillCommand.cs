using System.CommandLine;
using System.Globalization;
using Cascade.Cli.Output;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Cascade.Cli.Commands;

internal static class BackfillCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "First date (YYYY-MM-DD)", Required = true };
        var to = new Option<string>("--to") { Description = "Last date, inclusive (YYYY-MM-DD)", Required = true };
        var jobs = new Option<string[]>("--job") { Description = "Start from these jobs (repeatable; default: every root job); what follows them runs reactively", DefaultValueFactory = _ => [], AllowMultipleArgumentsPerToken = false };
        var maxParallel = new Option<int?>("--max-parallel", "-j") { Description = "At most N of this backfill's commands at once" };
        var detach = new Option<bool>("--detach") { Description = "Return at once; follow with `cascade status` (a scheduler must run)" };
        var command = new Command("backfill", "Run the chain over a date range, oldest first, bounded, with progress; without a running scheduler it runs one until done")
        {
            from, to, jobs, maxParallel, detach,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var first = Date(parse.GetValue(from)!, "--from");
            var last = Date(parse.GetValue(to)!, "--to");
            if (last < first)
            {
                throw new CliException($"--to {last:yyyy-MM-dd} is before --from {first:yyyy-MM-dd}");
            }

            if (last.DayNumber - first.DayNumber > 3660)
            {
                throw new CliException("a backfill covers at most 10 years; split it");
            }

            var names = parse.GetValue(jobs)!.Select(j => ws.Job(j).Name).Distinct().ToList();
            foreach (var name in names.Where(n => ws.Pipeline[n].Run is RunSpec.External))
            {
                throw new CliException($"'{name}' is an external job: Cascade cannot run it. Backfill the jobs after it.");
            }

            if (parse.GetValue(maxParallel) is < 1)
            {
                throw new CliException("--max-parallel must be 1 or more");
            }

            var id = "bf-" + TimeProvider.System.GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..4];
            var request = Request.ForBackfill(id, names, first, last, parse.GetValue(maxParallel), TimeProvider.System.GetUtcNow());
            var starts = names.Count > 0 ? string.Join(", ", names) : "every root job";
            Console.WriteLine($"backfill {id}: {first:yyyy-MM-dd}..{last:yyyy-MM-dd} from {starts}{(parse.GetValue(maxParallel) is { } n ? $", at most {n} at once" : string.Empty)} (cancel: cascade cancel --backfill {id})");

            SchedulerLock? owned = null;
            try
            {
                owned = SchedulerLock.Acquire(ws.StatePath);
            }
            catch (StateStoreException)
            {
                // a scheduler is running: it does the work; we follow it
            }

            using (owned)
            {
                await using var store = await ws.OpenStateAsync(TimeProvider.System, ct);
                var requestId = await store.EnqueueRequestAsync(request, ct);
                if (parse.GetValue(detach))
                {
                    Console.WriteLine(owned is null
                        ? "detached: the running scheduler does it. Follow it with `cascade status`."
                        : "detached: no scheduler is running; the next `cascade run` does it.");
                    return 0;
                }

                return owned is null
                    ? await FollowAsync(store, id, requestId, ct)
                    : await RunHereAsync(ws, store, id, ct);
            }
        }));
        return command;
    }

    private static DateOnly Date(string text, string option) =>
        !DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? throw new CliException($"{option} '{text}' is not a date (YYYY-MM-DD)")
            : !Core.Model.Partition.IsSupportedDate(d)
                ? throw new CliException(Core.Model.Partition.RangeError($"{option} {d:yyyy-MM-dd}"))
                : d;

    /// <summary>No scheduler runs: run one here until the backfill (and anything it set off) is done.</summary>
    private static async Task<int> RunHereAsync(Workspace ws, IRunStore store, string id, CancellationToken ct)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter((_, level) => level >= LogLevel.Warning).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var options = new EngineOptions { UntilIdle = true, LogDirectory = ws.LogDirectory, RescanInterval = ws.Pipeline.Definition.RescanInterval };
        using var service = new SchedulerService(ws.Pipeline, options, store, ws.Markers(TimeProvider.System, loggerFactory.CreateLogger("cascade")), new ProcessExecutor(ws.BaseDirectory), TimeProvider.System, loggerFactory.CreateLogger("cascade"));
        var tally = new Dictionary<Core.Model.RunKey, RunState>();
        service.RunChanged += change =>
        {
            if (change.Run.Backfill == id)
            {
                lock (tally)
                {
                    tally[change.Run.Key] = change.Run.State;
                }
            }
        };
        Counts Snapshot()
        {
            lock (tally)
            {
                return Counts.Of(tally.Values);
            }
        }

        var run = service.RunAsync(ct);
        await ShowProgressAsync(run, Snapshot, ct);
        await run;
        return Summarize(Snapshot());
    }

    /// <summary>A scheduler runs elsewhere: follow the backfill's runs in the state database.</summary>
    private static async Task<int> FollowAsync(IRunStore store, string id, long requestId, CancellationToken ct)
    {
        Counts latest = new(0, 0, 0, 0, 0, 0);
        var seen = false;
        async Task<Counts> Poll()
        {
            var runs = await store.QueryRunsAsync(new RunQuery { Backfill = id, Limit = int.MaxValue }, ct);
            latest = Counts.Of(runs.Select(r => r.State));
            seen |= runs.Count > 0;
            return latest;
        }

        var done = new TaskCompletionSource();
        var poller = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                // The request is marked taken in the same transaction as the runs it queued, so once
                // it reads as taken, the poll after it sees all of them (or none: nothing to do).
                var taken = await store.IsRequestTakenAsync(requestId, ct);
                var c = await Poll();
                if ((seen || taken) && c.Active == 0)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, ct);
            }

            done.TrySetResult();
        }, ct);
        await ShowProgressAsync(done.Task, () => latest, ct);
        await poller;
        return Summarize(latest);
    }

    private static async Task ShowProgressAsync(Task work, Func<Counts> counts, CancellationToken ct)
    {
        if (Console.IsOutputRedirected)
        {
            var last = string.Empty;
            while (await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, ct)) != work)
            {
                var line = counts().ToString();
                if (line != last)
                {
                    Console.WriteLine(line);
                    last = line;
                }
            }

            return;
        }

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("backfill", maxValue: 1);
                while (!work.IsCompleted)
                {
                    var c = counts();
                    bar.MaxValue = Math.Max(1, c.Total);
                    bar.Value = c.Finished;
                    bar.Description = Markup.Escape(c.ToString());
                    await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, ct));
                }

                var final = counts();
                bar.MaxValue = Math.Max(1, final.Total);
                bar.Value = bar.MaxValue;
                bar.Description = Markup.Escape(final.ToString());
            });
    }

    private static int Summarize(Counts c)
    {
        var waiting = c.Waiting > 0 ? $", {c.Waiting} waiting for inputs" : string.Empty;
        Console.WriteLine($"backfill finished: {c.Succeeded} succeeded, {c.Broken} failed or broken, {c.Active} still queued or running{waiting}, of {c.Total} run(s)");
        if (c.Waiting > 0)
        {
            Console.WriteLine("  runs waiting for inputs start once those are done: `cascade status --state waiting`, `cascade why JOB PARTITION`");
        }

        if (c.Broken > 0)
        {
            Console.WriteLine("  see `cascade status --state failed` and `cascade why JOB PARTITION`");
        }

        return c.Broken > 0 ? 1 : 0;
    }

    /// <summary>A backfill's runs by state. Runs waiting for inputs are not active: nothing of the backfill will start them.</summary>
    private readonly record struct Counts(int Total, int Succeeded, int Running, int Queued, int Waiting, int Broken)
    {
        public int Active => Running + Queued;

        public int Finished => Succeeded + Broken;

        public static Counts Of(IEnumerable<RunState> states)
        {
            var list = states.ToList();
            return new Counts(
                list.Count,
                list.Count(s => s == RunState.Succeeded),
                list.Count(s => s == RunState.Running),
                list.Count(s => s == RunState.Queued),
                list.Count(s => s == RunState.Waiting),
                list.Count(s => s.IsBroken()));
        }

        public override string ToString() =>
            $"{Succeeded}/{Total} succeeded, {Running} running, {Queued} queued, {Broken} failed" + (Waiting > 0 ? $", {Waiting} waiting for inputs" : string.Empty);
    }
}
