using System.Globalization;

namespace Cascade.Bench;

/// <summary>The command line: <c>[--quick] [--runs N] [--out FILE] [--only NAME[,NAME]] [--keep] [--cascade PATH]</c>.</summary>
internal sealed record BenchOptions
{
    public static readonly string[] Scenarios = ["reaction", "throughput", "dag", "scale", "idle", "request", "sse"];

    public const string Usage = """
        Cascade.Bench: end-to-end benchmarks of the Cascade scheduler (method: docs/performance.md)

        usage: dotnet run -c Release --project bench/Cascade.Bench -- [options]

          --quick            every scenario shrunk to a few seconds (CI smoke run; figures are not comparable)
          --runs N           runs per scenario; the table shows the median (default 3; 1 with --quick)
          --out FILE         where the JSON goes (default bench-results.json)
          --only NAME[,NAME] only these scenarios: reaction, throughput, dag, scale, idle, request, sse
          --keep             keep the generated temp folders (their paths are printed)
          --cascade PATH     dag: also measure this cascade as a whole process; sse: measure it instead of the
                             JIT build: a binary (the Native AOT one: scripts/aot-publish.sh prints its path)
                             or a dll (run with dotnet)
        """;

    public bool Quick { get; init; }

    public int Runs { get; init; } = 3;

    public string Out { get; init; } = "bench-results.json";

    public IReadOnlyList<string>? Only { get; init; }

    public bool Keep { get; init; }

    /// <summary>A cascade binary or dll the dag scenario measures besides the JIT build beside the bench.</summary>
    public string? Cascade { get; init; }

    public bool Selected(string scenario) => Only is null || Only.Contains(scenario);

    /// <summary>Parses the arguments; an error is an <see cref="ArgumentException"/> with a message for people.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        int? runs = null;
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--runs":
                    var text = Value();
                    runs = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1
                        ? n
                        : throw new ArgumentException($"--runs must be a whole number of 1 or more, not '{text}'");
                    break;
                case "--out":
                    options = options with { Out = Value() };
                    break;
                case "--only":
                    var names = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var unknown = names.Where(x => !Scenarios.Contains(x)).ToList();
                    if (unknown.Count > 0 || names.Length == 0)
                    {
                        throw new ArgumentException($"--only: unknown scenario '{string.Join(",", unknown)}' (scenarios: {string.Join(", ", Scenarios)})");
                    }

                    options = options with { Only = names };
                    break;
                case "--keep":
                    options = options with { Keep = true };
                    break;
                case "--cascade":
                    var path = Value();
                    options = File.Exists(path)
                        ? options with { Cascade = Path.GetFullPath(path) }
                        : throw new ArgumentException($"--cascade: no file '{path}' (scripts/aot-publish.sh prints the native binary's path)");
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        return options with { Runs = runs ?? (options.Quick ? 1 : 3) };
    }
}
