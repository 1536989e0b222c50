using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Cascade.Core.Model;

namespace Cascade.Core.Pipelines;

/// <summary>
/// Placeholder substitution in command arguments: <c>{job}</c>, <c>{partition}</c>, <c>{date}</c>,
/// <c>{year}</c>, <c>{month}</c>, <c>{day}</c>, <c>{hour}</c>, <c>{run_id}</c>, <c>{attempt}</c>,
/// <c>{params.NAME}</c>. Substitution is per argument and purely textual: no value is ever
/// interpreted by a shell.
/// </summary>
public static partial class Placeholders
{
    public static readonly IReadOnlySet<string> Names =
        new HashSet<string>(["job", "partition", "date", "year", "month", "day", "hour", "run_id", "attempt"], StringComparer.Ordinal);

    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_.-]*)\}")]
    private static partial Regex Pattern();

    /// <summary>The built-in values for a run (<c>{hour}</c> is empty for daily runs).</summary>
    public static IReadOnlyDictionary<string, string> BuiltIns(RunKey key, string runId, int attempt = 0)
    {
        var p = key.Partition;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["job"] = key.Job,
            ["partition"] = p.Key,
            ["date"] = p.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["year"] = p.Date.Year.ToString("D4", CultureInfo.InvariantCulture),
            ["month"] = p.Date.Month.ToString("D2", CultureInfo.InvariantCulture),
            ["day"] = p.Date.Day.ToString("D2", CultureInfo.InvariantCulture),
            ["hour"] = p.Grain == Grain.Hourly ? p.HourOfDay.ToString("D2", CultureInfo.InvariantCulture) : string.Empty,
            ["run_id"] = runId,
            ["attempt"] = attempt.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Placeholder names in a template that are neither built-ins nor <c>params.NAME</c>.</summary>
    public static IEnumerable<string> Unknown(string template) =>
        Pattern().Matches(template).Select(m => m.Groups["name"].Value)
            .Where(n => !Names.Contains(n) && !(n.StartsWith("params.", StringComparison.Ordinal) && n.Length > 7));

    /// <summary>
    /// The placeholders of <paramref name="templates"/> whose value holds a NUL character. An
    /// operating system argument ends at a NUL, so such a value would be cut silently: the run must
    /// fail instead, naming them.
    /// </summary>
    public static IReadOnlyList<string> WithNul(
        IEnumerable<string> templates,
        IReadOnlyDictionary<string, string> builtIns,
        IReadOnlyDictionary<string, string> parameters) =>
        templates.SelectMany(t => Pattern().Matches(t)).Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal)
            .Where(name => (builtIns.TryGetValue(name, out var v)
                || (name.StartsWith("params.", StringComparison.Ordinal) && parameters.TryGetValue(name[7..], out v)))
                && v.Contains('\0', StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Substitutes every placeholder. Returns false with the missing names when a value is absent.
    /// </summary>
    public static bool TryRender(
        string template,
        IReadOnlyDictionary<string, string> builtIns,
        IReadOnlyDictionary<string, string> parameters,
        out string result,
        out IReadOnlyList<string> missing)
    {
        var miss = new List<string>();
        var sb = new StringBuilder(template.Length);
        var last = 0;
        foreach (Match m in Pattern().Matches(template))
        {
            sb.Append(template, last, m.Index - last);
            last = m.Index + m.Length;
            var name = m.Groups["name"].Value;
            if (builtIns.TryGetValue(name, out var v)
                || (name.StartsWith("params.", StringComparison.Ordinal) && parameters.TryGetValue(name[7..], out v)))
            {
                sb.Append(v);
            }
            else
            {
                miss.Add(name);
            }
        }

        sb.Append(template, last, template.Length - last);
        result = sb.ToString();
        missing = miss;
        return miss.Count == 0;
    }
}
