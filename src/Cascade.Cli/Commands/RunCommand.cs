using System.CommandLine;
using System.Runtime.InteropServices;
using Cascade.Cli.Output;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Alerts;
using Cascade.Engine.Runtime;
using Cascade.Web;

namespace Cascade.Cli.Commands;

internal static class RunCommand
{
    public static Command Create()
    {
        var untilIdle = new Option<bool>("--until-idle") { Description = "Exit once nothing is queued or running and no retry is pending (runs waiting for inputs stay waiting)" };
        var maxParallel = new Option<int>("--max-parallel", "-j") { Description = "At most N commands at once over all jobs", DefaultValueFactory = _ => 8 };
        var noWeb = new Option<bool>("--no-web") { Description = "Do not serve the HTTP API" };
        var urls = new Option<string>("--urls") { Description = "Where the HTTP API listens, ';'-separated (a non-loopback address needs CASCADE_API_TOKEN). With --until-idle the API is served only when --urls is given", DefaultValueFactory = _ => WebHosting.DefaultUrls };
        var grace = new Option<string>("--shutdown-grace") { Description = "On SIGINT/SIGTERM, how long running commands may finish before they are killed (and queued again on the next start)", DefaultValueFactory = _ => "30s" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only warnings, failures and the summary" };
        var command = new Command("run", "Run the scheduler: react to done markers, start jobs whose inputs are all done, retry failures; serves the HTTP API on --urls (not with --until-idle unless --urls is given)")
        {
            untilIdle, maxParallel, noWeb, urls, grace, quiet,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            if (parse.GetValue(maxParallel) is var mp && mp < 1)
            {
                throw new CliException($"--max-parallel must be 1 or more, not {mp}");
            }

            if (!Duration.TryParse(parse.GetValue(grace), out var shutdownGrace))
            {
                throw new CliException($"--shutdown-grace '{parse.GetValue(grace)}' is not a duration (e.g. 30s, 2m)");
            }

            // The API is served by a long-running scheduler, and by a batch (--until-idle) only when
            // asked for with --urls: a cron batch keeps its start-up time (ADR 12).
            var serve = !parse.GetValue(noWeb) && (!parse.GetValue(untilIdle) || parse.GetResult(urls) is { Implicit: false });
            var webOptions = serve ? WebHosting.Options(ws, parse.GetValue(urls)!, scheduler: null, metrics: null) : null;
            var metrics = serve ? new SchedulerMetrics() : null;
            using var meterScope = metrics;

            // The exporter listens before the scheduler measures anything (Kestrel itself starts later, beside it).
            using var export = serve ? Web.Metrics.MetricsExport.Start(metrics!.MeterName) : null;
            webOptions = webOptions is null ? null : webOptions with { Metrics = metrics, Export = export };

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            SchedulerService? running = null;
            var signals = 0;
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                switch (Interlocked.Increment(ref signals))
                {
                    case 1:
                        Console.Error.WriteLine($"stopping: no new runs; running commands get {Duration.Format(shutdownGrace)} to finish (signal again to kill them now)");
                        stop.Cancel();
                        break;
                    case 2:
                        Console.Error.WriteLine("killing running commands; they are queued again on the next start");
                        running?.KillRunning();
                        break;
                }
            }

            // SQLite: the file's lock comes first (ADR 8). PostgreSQL: the database's lock says whether
            // a scheduler runs anywhere (ADR 21); the local one is then only this folder's doorbell.
            var onFile = ws.State is StateSettings.Sqlite;
            using var fileLock = onFile ? SchedulerLock.Acquire(ws.StatePath) : null;
            var logger = new ConsoleLog();
            var time = TimeProvider.System;
            await using var store = await ws.OpenStateAsync(time, ct);
            await using var databaseLock = store is Engine.State.Postgres.PostgresRunStore postgres ? await postgres.TakeSchedulerLockAsync(ct) : null;
            using var localLock = onFile ? null : SchedulerLock.Acquire(ws.StatePath);
            var lockFile = fileLock ?? localLock!;
            var options = new EngineOptions
            {
                MaxParallel = mp,
                UntilIdle = parse.GetValue(untilIdle),
                ShutdownGrace = shutdownGrace,
                RescanInterval = ws.Pipeline.Definition.RescanInterval,
                LogDirectory = ws.LogDirectory,
            };
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            IReadOnlyList<IAlertSink> sinks;
            try
            {
                sinks = AlertSinks.Create(ws.Pipeline, http, Environment.GetEnvironmentVariable);
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message, raw: false);
            }

            await using var alerts = new AlertDispatcher(sinks, new AlertDeliveryOptions(), time, logger, metrics);
            var markers = ws.Markers(time, logger);
            using var ownedMarkers = markers as IDisposable;
            using var intake = ws.Pipeline.Definition.Events.Sqs is null ? null : ws.NotificationIntake(http, time, logger);
            using var sqs = intake is null ? null : ws.SqsConsumer(intake, time, logger);
            using var service = new SchedulerService(ws.Pipeline, options, store, markers, ws.Executor(http, time), time, logger, alerts, doorbell: lockFile, metrics: metrics, sources: sqs is null ? [] : [sqs]);
            running = service;
            var printer = new RunPrinter(parse.GetValue(quiet), time);
            service.RunChanged += printer.OnChanged;
            service.AttemptStarted += printer.OnAttemptStarted;
            service.Ready += printer.OnReady;
            service.AlertRaised += alert => Console.Error.WriteLine($"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} ALERT {AlertText.Headline(alert)}: {alert.Summary}{(sinks.Count == 0 ? " (no alerts configured)" : string.Empty)}");
            foreach (var sink in sinks)
            {
                Console.WriteLine($"alerts go to {sink.Describe}");
            }

            if (sqs is not null)
            {
                Console.WriteLine($"notifications from {sqs.Describe}");
            }

            Console.WriteLine($"cascade run: {ws.Pipeline.Jobs.Count} jobs from {Workspace.Relative(ws.File)}; markers in {ws.MarkersShown}; state in {ws.StateShown}; max-parallel {mp}{(options.UntilIdle ? "; until idle" : string.Empty)}");
            // Kestrel starts beside the scheduler, never before its first decision; a port that
            // cannot be bound stops the scheduler with the error (the API was asked for).
            string? webFailure = null;
            var web = webOptions is null ? Task.FromResult<WebServer?>(null) : Task.Run(async () =>
            {
                try
                {
                    return (WebServer?)await WebHosting.StartAsync(webOptions with { Scheduler = service }, stop.Token);
                }
                catch (CliException e)
                {
                    webFailure = e.Message;
                    await stop.CancelAsync();
                    return null;
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }, CancellationToken.None);

            try
            {
                await service.RunAsync(stop.Token);
            }
            finally
            {
                if (await web is { } server)
                {
                    await server.DisposeAsync();
                }
            }

            if (webFailure is not null)
            {
                throw new CliException(webFailure);
            }

            await alerts.DrainAsync(TimeSpan.FromSeconds(10), time);
            printer.PrintSummary(stopped: stop.IsCancellationRequested);

            // `--until-idle` is a batch: 1 when a run this invocation changed ended broken (a cron or
            // CI wrapper must see it), 130 when a signal stopped it before it was idle. The service
            // (no --until-idle) ends only by a signal, which is its normal stop: 0 (failures are alerts).
            if (!options.UntilIdle)
            {
                return ExitCodes.Ok;
            }

            return printer.AnyBroken ? ExitCodes.RunBroke
                : stop.IsCancellationRequested ? ExitCodes.Interrupted
                : ExitCodes.Ok;
        }));
        return command;
    }
}
