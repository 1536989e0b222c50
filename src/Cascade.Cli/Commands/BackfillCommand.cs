using System.CommandLine;
using System.Globalization;
using Cascade.Cli.Output;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
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
            var desk = ws.Desk(TimeProvider.System);
            var backfill = desk.PrepareBackfill(parse.GetValue(from)!, parse.GetValue(to)!, parse.GetValue(jobs)!, parse.GetValue(maxParallel));
            var (id, first, last, names, startJobs) = (backfill.Id, backfill.From, backfill.To, backfill.Jobs, backfill.StartJobs);
            foreach (var note in backfill.Notes)
            {
                Console.WriteLine(note);
            }

            var scope = BackfillScope.Of(ws.Pipeline, startJobs, first, last);
            var starts = names.Count > 0 ? string.Join(", ", names) : $"the root job(s) {string.Join(", ", startJobs)}";
            Console.WriteLine($"backfill {id}: {first:yyyy-MM-dd}..{last:yyyy-MM-dd} from {starts}{(parse.GetValue(maxParallel) is { } n ? $", at most {n} at once" : string.Empty)}: {scope.Total} run(s) of {scope.JobCount} job(s) (cancel: cascade cancel --backfill {id})");

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

                // On PostgreSQL a scheduler may run in another folder or on another machine: the database's lock says (ADR 21).
                await using var databaseLock = owned is not null && store is Engine.State.Postgres.PostgresRunStore postgres ? await postgres.TryTakeSchedulerLockAsync(ct) : null;
                var here = store is Engine.State.Postgres.PostgresRunStore && databaseLock is null ? null : owned;
                if (here is null)
                {
                    owned?.Dispose(); // following another scheduler: this folder's lock is not ours to hold
                }

                // Read before the request is left, so nothing the backfill does counts as done before it.
                var before = await scope.ReadAsync(store, ct);
                var doneBefore = before.Values.Count(r => r.IsDone);
                // A running scheduler is rung (it takes it now, not at its next poll); ours reads it on start.
                var requestId = await desk.BackfillAsync(store, backfill, ct, ring: here is null);

                if (parse.GetValue(detach))
                {
                    Console.WriteLine(here is null
                        ? "detached: the running scheduler does it. Follow it with `cascade status`."
                        : "detached: no scheduler is running; the next `cascade run` does it.");
                    return 0;
                }

                return here is null
                    ? await FollowAsync(store, scope, doneBefore, requestId, ct)
                    : await RunHereAsync(ws, store, scope, before, doneBefore, here, ct);
            }
        }));
        return command;
    }

    /// <summary>No scheduler runs: run one here until the backfill (and anything it set off) is done.</summary>
    private static async Task<int> RunHereAsync(Workspace ws, IRunStore store, BackfillScope scope, Dictionary<Core.Model.RunKey, Run> before, int doneBefore, SchedulerLock doorbell, CancellationToken ct)
    {
        var logger = new ConsoleLog();
        var options = new EngineOptions { UntilIdle = true, LogDirectory = ws.LogDirectory, RescanInterval = ws.Pipeline.Definition.RescanInterval };
        var markers = ws.Markers(TimeProvider.System, logger);
        using var ownedMarkers = markers as IDisposable;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var service = new SchedulerService(ws.Pipeline, options, store, markers, ws.Executor(http, TimeProvider.System), TimeProvider.System, logger, doorbell: doorbell);
        var tally = before;
        service.RunChanged += change =>
        {
            if (scope.Contains(change.Run.Key))
            {
                lock (tally)
                {
                    tally[change.Run.Key] = change.Run;
                }
            }
        };
        BackfillCounts Snapshot()
        {
            lock (tally)
            {
                return scope.Count(tally.Values, doneBefore);
            }
        }

        var run = service.RunAsync(ct);
        await ShowProgressAsync(run, Snapshot, ct);
        await run;
        return Summarize(Snapshot());
    }

    /// <summary>A scheduler runs elsewhere: follow the backfill's runs in the state database.</summary>
    private static async Task<int> FollowAsync(IRunStore store, BackfillScope scope, int doneBefore, long requestId, CancellationToken ct)
    {
        var latest = scope.Count([], doneBefore);
        var done = new TaskCompletionSource();
        var poller = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                // The request is marked taken in the same transaction as the runs it queued, and a
                // run's end is committed with the downstream runs it queues: once the request is
                // taken and nothing of the scope is queued or running, nothing more will start.
                var taken = await store.IsRequestTakenAsync(requestId, ct);
                var c = latest = scope.Count((await scope.ReadAsync(store, ct)).Values, doneBefore);
                if (taken && c.Active == 0)
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

    private static async Task ShowProgressAsync(Task work, Func<BackfillCounts> counts, CancellationToken ct)
    {
        if (Console.IsOutputRedirected)
        {
            // A line when the counts changed, at most every 2 s; the first at once.
            var last = string.Empty;
            do
            {
                var line = counts().ToString();
                if (line != last)
                {
                    Console.WriteLine(line);
                    last = line;
                }
            }
            while (await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, ct)) != work);

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

    private static int Summarize(BackfillCounts c)
    {
        Console.WriteLine($"backfill finished: {c.Summary()}");
        if (c.Waiting > 0)
        {
            Console.WriteLine("  runs waiting for inputs start once those are done: `cascade status --state waiting`, `cascade why JOB PARTITION`");
        }

        if (c.Broken > 0)
        {
            Console.WriteLine("  see `cascade status --state failed` (and timed_out, upstream_failed) and `cascade why JOB PARTITION`");
        }

        return c.Broken > 0 ? ExitCodes.RunBroke : ExitCodes.Ok;
    }
}
