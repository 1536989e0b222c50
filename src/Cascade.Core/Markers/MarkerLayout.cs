using System.Text;
using System.Text.RegularExpressions;
using Cascade.Core.Model;

namespace Cascade.Core.Markers;

/// <summary>
/// Maps run keys to marker names and back. The layout holds <c>{job}</c> and <c>{partition}</c>
/// exactly once each and ends in <c>.done</c>; <c>/</c> separates folders
/// (e.g. <c>{partition}/{job}.done</c>).
/// </summary>
public sealed class MarkerLayout
{
    public const string DefaultPattern = "{job}__{partition}.done";

    public static readonly MarkerLayout Default = Parse(DefaultPattern);

    private readonly Regex _regex;

    private MarkerLayout(string pattern, Regex regex)
    {
        Pattern = pattern;
        _regex = regex;
    }

    public string Pattern { get; }

    public static bool TryParse(string pattern, out MarkerLayout? layout, out string? error)
    {
        layout = null;
        error = null;
        if (Count(pattern, "{job}") != 1 || Count(pattern, "{partition}") != 1)
        {
            error = $"marker layout '{pattern}' must contain {{job}} and {{partition}} exactly once";
            return false;
        }

        if (!pattern.EndsWith(".done", StringComparison.Ordinal))
        {
            error = $"marker layout '{pattern}' must end in .done";
            return false;
        }

        if (pattern.StartsWith('/') || pattern.Contains("..", StringComparison.Ordinal) || pattern.Contains('\\', StringComparison.Ordinal))
        {
            error = $"marker layout '{pattern}' must be a relative path without '..' or '\\'";
            return false;
        }

        var rx = new StringBuilder("^");
        var rest = pattern;
        while (rest.Length > 0)
        {
            if (rest.StartsWith("{job}", StringComparison.Ordinal))
            {
                rx.Append("(?<job>[a-z0-9](?:[a-z0-9_-]*[a-z0-9_-])?)");
                rest = rest[5..];
            }
            else if (rest.StartsWith("{partition}", StringComparison.Ordinal))
            {
                rx.Append("(?<partition>[0-9]{8}(?:[0-9]{2})?)");
                rest = rest[11..];
            }
            else
            {
                rx.Append(Regex.Escape(rest[0].ToString()));
                rest = rest[1..];
            }
        }

        rx.Append('$');
        layout = new MarkerLayout(pattern, new Regex(rx.ToString(), RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture));
        return true;
    }

    public static MarkerLayout Parse(string pattern) =>
        TryParse(pattern, out var layout, out var error) ? layout! : throw new FormatException(error);

    /// <summary>The marker's relative path (with <c>/</c> separators) for a run.</summary>
    public string Format(RunKey key) =>
        Pattern.Replace("{job}", key.Job, StringComparison.Ordinal)
            .Replace("{partition}", key.Partition.Key, StringComparison.Ordinal);

    /// <summary>
    /// Parses a relative marker path. Returns a reason on failure; never throws. Does not check that
    /// the job exists: that is the pipeline's business.
    /// </summary>
    public MarkerNameResult ParseName(string relativePath)
    {
        if (ReferenceEquals(Pattern, DefaultPattern) || Pattern == DefaultPattern)
        {
            // The default layout without a regex: a year of markers is ~10^6 names on every start.
            var end = relativePath.Length - ".done".Length;
            var sep = relativePath.LastIndexOf("__", StringComparison.Ordinal);
            if (end > 0 && sep > 0 && relativePath.EndsWith(".done", StringComparison.Ordinal) && sep + 2 < end
                && !relativePath.Contains('/', StringComparison.Ordinal))
            {
                var name = relativePath[..sep];
                if (Pipelines.JobName.IsValid(name) && Model.Partition.TryParse(relativePath.AsSpan(sep + 2, end - sep - 2), out var p))
                {
                    return MarkerNameResult.Ok(new RunKey(name, p));
                }
            }
        }

        var m = _regex.Match(relativePath);
        if (!m.Success)
        {
            return MarkerNameResult.Fail($"'{relativePath}' does not match the marker layout '{Pattern}'");
        }

        var job = m.Groups["job"].Value;
        if (job.Contains("__", StringComparison.Ordinal))
        {
            return MarkerNameResult.Fail($"'{relativePath}': job name '{job}' may not contain '__'");
        }

        if (!Pipelines.JobName.IsValid(job))
        {
            return MarkerNameResult.Fail($"'{Shorten(relativePath)}': '{Shorten(job)}' is not a valid job name");
        }

        var text = m.Groups["partition"].Value;
        if (!Model.Partition.TryParse(text, out var partition))
        {
            // The regex admits 8 or 10 digits only: a bad calendar date, or a year out of range.
            var year = int.Parse(text.AsSpan(0, 4), System.Globalization.CultureInfo.InvariantCulture);
            return MarkerNameResult.Fail(year < Model.Partition.MinDate.Year || year > Model.Partition.MaxDate.Year
                ? $"'{relativePath}': {Model.Partition.RangeError($"partition {text}")}; ignored"
                : $"'{relativePath}': '{text}' is not a valid date or hour");
        }

        return MarkerNameResult.Ok(new RunKey(job, partition));
    }

    private static string Shorten(string s) => s.Length > 80 ? s[..80] + "…" : s;

    private static int Count(string s, string part)
    {
        var n = 0;
        for (var i = s.IndexOf(part, StringComparison.Ordinal); i >= 0; i = s.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
