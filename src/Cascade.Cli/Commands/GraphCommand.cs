using System.CommandLine;
using System.Text;
using Cascade.Core.Pipelines;

namespace Cascade.Cli.Commands;

internal static class GraphCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "Output format", DefaultValueFactory = _ => "mermaid" };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var command = new Command("graph", "Print the job DAG as Mermaid or Graphviz dot") { format };
        command.SetAction(parse => CommandRunner.RunAsync(() =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            Console.Write(parse.GetValue(format) == "dot" ? Dot(ws.Pipeline) : Mermaid(ws.Pipeline));
            return Task.FromResult(0);
        }));
        return command;
    }

    private static string Label(Dependency d) => d.Offset == 0 ? string.Empty : $"offset {d.Offset}";

    public static string Mermaid(Pipeline pipeline)
    {
        var sb = new StringBuilder("graph LR\n");
        foreach (var job in pipeline.Jobs)
        {
            var kind = job.Run is RunSpec.External ? "[/" + job.Name + " (external)/]" : $"[{job.Name}{(job.Grain == Core.Model.Grain.Hourly ? " (hourly)" : "")}]";
            sb.Append($"  {Id(job.Name)}{kind}\n");
        }

        foreach (var job in pipeline.Jobs)
        {
            foreach (var dep in job.After)
            {
                var label = Label(dep);
                sb.Append(label.Length == 0 ? $"  {Id(dep.Job)} --> {Id(job.Name)}\n" : $"  {Id(dep.Job)} -. \"{label}\" .-> {Id(job.Name)}\n");
            }
        }

        return sb.ToString();
    }

    public static string Dot(Pipeline pipeline)
    {
        var sb = new StringBuilder("digraph cascade {\n  rankdir=LR;\n  node [shape=box];\n");
        foreach (var job in pipeline.Jobs)
        {
            var extra = job.Run is RunSpec.External ? ", style=dashed" : string.Empty;
            var grain = job.Grain == Core.Model.Grain.Hourly ? "\\n(hourly)" : string.Empty;
            sb.Append($"  \"{job.Name}\" [label=\"{job.Name}{grain}\"{extra}];\n");
        }

        foreach (var job in pipeline.Jobs)
        {
            foreach (var dep in job.After)
            {
                var label = Label(dep);
                sb.Append(label.Length == 0 ? $"  \"{dep.Job}\" -> \"{job.Name}\";\n" : $"  \"{dep.Job}\" -> \"{job.Name}\" [label=\"{label}\", style=dashed];\n");
            }
        }

        return sb.Append("}\n").ToString();
    }

    // Job names are [a-z0-9_-]; Mermaid ids may not contain '-'.
    private static string Id(string job) => "j_" + job.Replace('-', '_');
}
