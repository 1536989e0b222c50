using System.CommandLine;
using System.Runtime.InteropServices;

namespace Cascade.Cli.Commands;

/// <summary>
/// <c>cascade serve</c>: the HTTP API over the state database, without a scheduler (for a pipeline
/// run by <c>run --until-idle</c> from cron). Reads are served from the state; writes go through
/// the same request path as the CLI: the rows wait for the next <c>cascade run</c> (ADR 12).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where the HTTP API listens, ';'-separated (a non-loopback address needs CASCADE_API_TOKEN)", DefaultValueFactory = _ => WebHosting.DefaultUrls };
        var command = new Command("serve", "Serve the HTTP API from the state database without running a scheduler; requests wait for the next `cascade run`") { urls };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var options = WebHosting.Options(ws, parse.GetValue(urls)!, scheduler: null, metrics: null);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            await using var server = await WebHosting.StartAsync(options, stop.Token);
            Console.WriteLine($"cascade serve: state in {ws.StateShown} (read-only; no scheduler: requests wait for the next `cascade run`)");
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // a signal: the normal stop
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
