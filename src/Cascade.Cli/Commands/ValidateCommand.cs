using System.CommandLine;
using Cascade.Engine.Pipelines;

namespace Cascade.Cli.Commands;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var command = new Command("validate", "Check the pipeline file and that each command's program exists; prints file:line:column errors and exits 1 on any");
        command.SetAction(parse => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var shown = Workspace.Relative(ws.File);
            var (errors, warnings) = CommandPrograms.Check(ws.Pipeline, ws.BaseDirectory, Environment.GetEnvironmentVariable("PATH"));
            foreach (var warning in warnings)
            {
                await Console.Error.WriteLineAsync((warning with { File = shown, Message = "warning: " + warning.Message }).ToString());
            }

            if (errors.Count > 0)
            {
                var lines = errors.Select(e => (e with { File = shown }).ToString()).Append($"{errors.Count} error(s) in {shown}");
                throw new CliException(string.Join(Environment.NewLine, lines), raw: true);
            }

            var jobs = ws.Pipeline.Jobs;
            var roots = jobs.Count(j => j.IsRoot);
            Console.WriteLine($"{shown}: valid — {jobs.Count} job(s), {roots} root(s), markers in {ws.MarkersShown} ({ws.Pipeline.Definition.Layout.Pattern}), state in {ws.StateShown}");
            return 0;
        }));
        return command;
    }
}
