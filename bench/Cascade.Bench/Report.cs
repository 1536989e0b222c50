using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cascade.Bench;

/// <summary>A target a metric's median is held to: <c>median &lt;= Value</c>, <c>&lt;</c> or <c>&gt;=</c>.</summary>
internal sealed record Target(string Op, double Value)
{
    public static Target AtMost(double value) => new("<=", value);

    public static Target Below(double value) => new("<", value);

    public static Target AtLeast(double value) => new(">=", value);

    public bool IsMet(double median) => !double.IsNaN(median) && Op switch
    {
        "<=" => median <= Value,
        "<" => median < Value,
        ">=" => median >= Value,
        _ => false,
    };

    public override string ToString() => $"{Op} {Report.Format(Value)}";
}

/// <summary>One figure measured once per run: its values in run order, the median and the target.</summary>
internal sealed class Metric(string name, string unit, Target? target)
{
    public string Name { get; } = name;

    public string Unit { get; } = unit;

    public Target? Target { get; } = target;

    public List<double> Runs { get; } = [];

    public double Median => Stats.Median(Runs);

    public bool? Met => Target?.IsMet(Median);
}

/// <summary>What one scenario measured: its metrics, the method in words, notes and per-run details.</summary>
internal sealed class ScenarioReport(string name, string title, string method)
{
    private readonly List<Metric> _metrics = [];

    public string Name { get; } = name;

    public string Title { get; } = title;

    public string Method { get; } = method;

    public IReadOnlyList<Metric> Metrics => _metrics;

    public List<string> Notes { get; } = [];

    public JsonArray RunDetails { get; } = [];

    public JsonObject Parameters { get; } = [];

    /// <summary>Adds this run's <paramref name="value"/> to the metric (created on first use, in order).</summary>
    public void Record(string metric, string unit, double value, Target? target = null)
    {
        var m = _metrics.Find(x => x.Name == metric);
        if (m is null)
        {
            m = new Metric(metric, unit, target);
            _metrics.Add(m);
        }

        if (!double.IsNaN(value) && !double.IsInfinity(value))
        {
            m.Runs.Add(value);
        }
    }

    public void Note(string note)
    {
        if (!Notes.Contains(note))
        {
            Notes.Add(note);
        }
    }
}

/// <summary>The table on stdout and the JSON file.</summary>
internal static class Report
{
    private static readonly string[] Header = ["scenario", "metric", "median", "runs", "target", "met?"];

    public static string Format(double value)
    {
        if (double.IsNaN(value))
        {
            return "-";
        }

        var abs = Math.Abs(value);
        var format = abs >= 1000 ? "#,0" : abs >= 100 ? "0.#" : abs >= 10 ? "0.##" : abs >= 1 ? "0.###" : "0.####";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    public static string Table(IReadOnlyList<ScenarioReport> scenarios)
    {
        var rows = new List<string[]> { Header };
        foreach (var s in scenarios)
        {
            foreach (var m in s.Metrics)
            {
                var unit = m.Unit.Length > 0 ? " " + m.Unit : string.Empty;
                rows.Add(
                [
                    s.Name,
                    m.Name,
                    m.Runs.Count == 0 ? "n/a" : Format(m.Median) + unit,
                    string.Join(" ", m.Runs.Select(Format)),
                    m.Target is null ? string.Empty : m.Target + unit,
                    m.Met switch { true => "yes", false => "NO", null => string.Empty },
                ]);
            }
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        for (var i = 0; i < rows.Count; i++)
        {
            sb.AppendLine(string.Join("  ", rows[i].Select((cell, c) => c == rows[i].Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
            if (i == 0)
            {
                sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        foreach (var s in scenarios.Where(s => s.Notes.Count > 0))
        {
            foreach (var note in s.Notes)
            {
                sb.Append("note (").Append(s.Name).Append("): ").AppendLine(note);
            }
        }

        return sb.ToString();
    }

    public static JsonObject Json(Machine machine, BenchOptions options, IReadOnlyList<ScenarioReport> scenarios, double totalSeconds)
    {
        var list = new JsonArray();
        foreach (var s in scenarios)
        {
            var metrics = new JsonArray();
            foreach (var m in s.Metrics)
            {
                metrics.Add(new JsonObject
                {
                    ["name"] = m.Name,
                    ["unit"] = m.Unit,
                    ["median"] = Number(m.Median),
                    ["runs"] = new JsonArray(m.Runs.Select(v => (JsonNode?)Number(v)).ToArray()),
                    ["target"] = m.Target is null ? null : new JsonObject { ["op"] = m.Target.Op, ["value"] = m.Target.Value },
                    ["met"] = m.Met,
                });
            }

            list.Add(new JsonObject
            {
                ["name"] = s.Name,
                ["title"] = s.Title,
                ["method"] = s.Method,
                ["parameters"] = s.Parameters.DeepClone(),
                ["metrics"] = metrics,
                ["notes"] = new JsonArray(s.Notes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
                ["run_details"] = s.RunDetails.DeepClone(),
            });
        }

        return new JsonObject
        {
            ["tool"] = "Cascade.Bench",
            ["machine"] = machine.ToJson(),
            ["options"] = new JsonObject
            {
                ["quick"] = options.Quick,
                ["runs"] = options.Runs,
                ["only"] = options.Only is null ? null : new JsonArray(options.Only.Select(o => (JsonNode?)JsonValue.Create(o)).ToArray()),
            },
            ["total_seconds"] = Math.Round(totalSeconds, 1),
            ["scenarios"] = list,
        };
    }

    public static async Task WriteJsonAsync(string path, JsonObject json)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllTextAsync(full, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static JsonValue? Number(double value) =>
        double.IsNaN(value) || double.IsInfinity(value) ? null : JsonValue.Create(Math.Round(value, 4));
}
