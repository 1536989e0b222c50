using System.Globalization;
using System.Text.RegularExpressions;

namespace Cascade.Core.Model;

/// <summary>Durations in the pipeline file: <c>90s</c>, <c>30m</c>, <c>6h</c>, <c>2d</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
public static partial class Duration
{
    [GeneratedRegex(@"^(?:(?<d>[0-9]+)d)?(?:(?<h>[0-9]+)h)?(?:(?<m>[0-9]+)m(?!s))?(?:(?<s>[0-9]+)s)?(?:(?<ms>[0-9]+)ms)?\z")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var m = Pattern().Match(text.Trim());
        if (!m.Success || m.Length == 0)
        {
            return false;
        }

        static long Part(Match m, string name) =>
            m.Groups[name].Success ? long.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;

        try
        {
            value = TimeSpan.FromDays(Part(m, "d")) + TimeSpan.FromHours(Part(m, "h")) + TimeSpan.FromMinutes(Part(m, "m"))
                + TimeSpan.FromSeconds(Part(m, "s")) + TimeSpan.FromMilliseconds(Part(m, "ms"));
        }
        catch (Exception e) when (e is OverflowException or ArgumentOutOfRangeException)
        {
            return false;
        }

        return true;
    }

    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new List<string>();
        if (value.Days > 0) parts.Add($"{value.Days}d");
        if (value.Hours > 0) parts.Add($"{value.Hours}h");
        if (value.Minutes > 0) parts.Add($"{value.Minutes}m");
        if (value.Seconds > 0) parts.Add($"{value.Seconds}s");
        if (value.Milliseconds > 0) parts.Add($"{value.Milliseconds}ms");
        return string.Concat(parts);
    }
}
