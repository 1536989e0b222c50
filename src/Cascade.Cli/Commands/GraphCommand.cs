using System.CommandLine;
using System.Text;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Cli.Commands;

/// <summary>
/// <c>cascade graph</c>: the DAG as Mermaid or Graphviz dot. Node ids are safe identifiers made
/// from the job names (unique even when two names differ only in '-' and '_'); every label is
/// quoted and escaped, so text such as <c>(external)</c> never reads as syntax.
/// </summary>
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

    private static string EdgeLabel(Dependency d) => d.Offset == 0 ? string.Empty : $"offset {d.Offset}";

    private static string NodeLabel(JobDefinition job) =>
        job.Run is RunSpec.External ? $"{job.Name} (external)" : job.Grain == Grain.Hourly ? $"{job.Name} (hourly)" : job.Name;

    public static string Mermaid(Pipeline pipeline)
    {
        var ids = Ids(pipeline);
        var sb = new StringBuilder("graph LR\n");
        foreach (var job in pipeline.Jobs)
        {
            var label = MermaidText(NodeLabel(job));
            sb.Append(job.Run is RunSpec.External ? $"  {ids[job.Name]}[/{label}/]\n" : $"  {ids[job.Name]}[{label}]\n");
        }

        foreach (var job in pipeline.Jobs)
        {
            foreach (var dep in job.After)
            {
                var label = EdgeLabel(dep);
                sb.Append(label.Length == 0
                    ? $"  {ids[dep.Job]} --> {ids[job.Name]}\n"
                    : $"  {ids[dep.Job]} -.->|{MermaidText(label)}| {ids[job.Name]}\n");
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
            sb.Append($"  {DotText(job.Name)} [label={DotText(NodeLabel(job))}{extra}];\n");
        }

        foreach (var job in pipeline.Jobs)
        {
            foreach (var dep in job.After)
            {
                var label = EdgeLabel(dep);
                sb.Append(label.Length == 0
                    ? $"  {DotText(dep.Job)} -> {DotText(job.Name)};\n"
                    : $"  {DotText(dep.Job)} -> {DotText(job.Name)} [label={DotText(label)}, style=dashed];\n");
            }
        }

        return sb.Append("}\n").ToString();
    }

    /// <summary>A quoted Mermaid string: <c>"</c> and the entity-start <c>#</c> become entity codes.</summary>
    public static string MermaidText(string text) =>
        "\"" + text.Replace("#", "#35;", StringComparison.Ordinal).Replace("\"", "#quot;", StringComparison.Ordinal) + "\"";

    /// <summary>A quoted dot string (an ID or a label): backslash and quote escaped, line breaks as \n.</summary>
    public static string DotText(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Mermaid ids: <c>j_</c> + the name with '-' as '_' (the prefix keeps words such as <c>end</c>
    /// from being keywords), numbered when two names would give the same id.
    /// </summary>
    private static Dictionary<string, string> Ids(Pipeline pipeline)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (job, i) in pipeline.Jobs.Select((j, i) => (j.Name, i)))
        {
            var id = "j_" + new string(job.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
            ids[job] = taken.Add(id) ? id : $"{id}_{i}";
            taken.Add(ids[job]);
        }

        return ids;
    }
}
