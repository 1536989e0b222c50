using System.CommandLine;
using Cascade.Cli;
using Cascade.Cli.Commands;
using Cascade.Engine.Executors.Process;

// Before anything touches Process or the console: an inherited ignored SIGCHLD would hide every
// command's exit (ADR 13).
CommandExecutors.RestoreChildSignal();

var root = new RootCommand("Cascade: a reactive job scheduler. Jobs start when their inputs are done (done markers), not when the clock says so.")
{
    InitCommand.Create(),
    ValidateCommand.Create(),
    GraphCommand.Create(),
    RunCommand.Create(),
    ServeCommand.Create(),
    DoneCommand.Create(),
    TriggerCommand.Create(),
    StatusCommand.Create(),
    WhyCommand.Create(),
    LogsCommand.Create(),
    ReplayCommand.Create(),
    BackfillCommand.Create(),
    CancelCommand.Create(),
    HistoryCommand.Create(),
    MigrateCommand.Create(),
};
foreach (var command in root.Subcommands.Where(c => c.Name != "init"))
{
    command.Options.Add(CommonOptions.File);
}

// Signals are handled by `cascade run` itself so that running jobs get their grace period.
return await ExitCodes.InvokeAsync(root, args, new InvocationConfiguration { ProcessTerminationTimeout = null });
