using System.CommandLine;

namespace Cascade.Cli.Commands;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var command = new Command("validate", "Check the pipeline file; prints file:line:column errors and exits 1 on any");
        command.SetAction(parse => CommandRunner.RunAsync(() =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var jobs = ws.Pipeline.Jobs;
            var roots = jobs.Count(j => j.IsRoot);
            Console.WriteLine($"{Workspace.Relative(ws.File)}: valid — {jobs.Count} job(s), {roots} root(s), markers in {Workspace.Relative(ws.MarkerFolder)} ({ws.Pipeline.Definition.Layout.Pattern}), state in {Workspace.Relative(ws.StatePath)}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
