using System.Globalization;
using System.Text.Json;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors.Process;

/// <summary>What both process executors give a command: its program as named, and its environment on top of the scheduler's.</summary>
internal static class CommandSetup
{
    /// <summary>The program: a relative path with a '/' is made absolute against the pipeline's folder; a bare name is looked up later (<see cref="ProgramPath"/>).</summary>
    public static string FileName(Activation activation, string workingDirectory)
    {
        var program = activation.Argv[0];
        return program.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(program)
            ? Path.GetFullPath(Path.Combine(workingDirectory, program))
            : program;
    }

    /// <summary>The variables set on top of the scheduler's environment, in the order they are set (a later one wins).</summary>
    public static List<KeyValuePair<string, string>> Variables(Activation activation, AttemptContext context, string? tag)
    {
        var variables = new List<KeyValuePair<string, string>>(activation.Values.Count + 4);
        foreach (var (name, value) in activation.Values)
        {
            variables.Add(new("CASCADE_" + name.ToUpperInvariant(), value));
        }

        variables.Add(new("CASCADE_MARKER", context.MarkerLocation));
        variables.Add(new("CASCADE_PARAMS", activation.Params.Count == 0 ? "{}" : JsonSerializer.Serialize(activation.Params, EngineJson.Default.IReadOnlyDictionaryStringString)));
        variables.Add(new("CASCADE_ATTEMPT", activation.Attempt.ToString(CultureInfo.InvariantCulture)));
        if (tag is not null)
        {
            variables.Add(new(OrphanProcesses.Variable, tag)); // inherited by everything the command starts
        }

        return variables;
    }
}
