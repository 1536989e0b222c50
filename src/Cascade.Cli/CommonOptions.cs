using System.CommandLine;
using Cascade.Core.Model;

namespace Cascade.Cli;

/// <summary>Options and arguments shared by several commands.</summary>
internal static class CommonOptions
{
    /// <summary>
    /// <c>-f FILE</c>, given to every command that reads the pipeline (not to <c>init</c>, which
    /// writes one). Short options mean one thing everywhere: <c>-f</c> file, <c>-j</c> max-parallel.
    /// </summary>
    public static readonly Option<string> File = new("--file", "-f")
    {
        Description = "The pipeline file",
        DefaultValueFactory = _ => "cascade.yaml",
        HelpName = "FILE",
    };

    public static Argument<string> JobArgument() => new("JOB") { Description = "A job of the pipeline" };

    public static Argument<string> PartitionArgument() => new("PARTITION")
    {
        Description = "A partition: 20190312, 2019-03-12 (daily) or 2019031205, 2019-03-12T05 (hourly)",
    };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts (a stable format)" };

    /// <summary><c>--json</c>, saying what it prints (the shape the HTTP API gives).</summary>
    public static Option<bool> Json(string what) => new("--json") { Description = $"Print JSON for scripts (a stable format): {what}" };

    public static Option<string[]> KeyValues(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "KEY=VALUE",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    /// <summary>Parses repeated <c>key=value</c> options; the key must be a valid name.</summary>
    public static SortedDictionary<string, string> ParseKeyValues(IEnumerable<string> items, string option)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException($"{option} '{item}' must look like KEY=VALUE");
            }

            var key = item[..eq];
            if (!Cascade.Core.Markers.MarkerBody.IsParamName(key))
            {
                throw new CliException($"{option} '{item}': '{key}' is not a valid name (letters, digits, '_' and '-', starting with a letter)");
            }

            if (item.Contains('\0', StringComparison.Ordinal))
            {
                throw new CliException($"{option} {key}=…: the value contains a NUL character, which no argument can carry");
            }

            result[key] = item[(eq + 1)..];
        }

        return result;
    }

    public static Partition ParsePartition(string text) =>
        Partition.TryParse(text, out var p, out var error) ? p : throw new CliException(error);
}
