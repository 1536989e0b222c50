using System.Text.RegularExpressions;

namespace Cascade.Engine.Alerts;

/// <summary>
/// Alert URLs: http(s) only, with <c>${NAME}</c> expanded from the environment so secrets stay out
/// of the pipeline file. A URL is shown (logs, errors) only as scheme://host/…, never in full.
/// </summary>
public static partial class AlertUrl
{
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();

    /// <summary>Checks what can be checked before expansion.</summary>
    public static bool LooksValid(string url, out string? problem)
    {
        problem = null;
        if (url.Contains("${", StringComparison.Ordinal))
        {
            var stripped = Variable().Replace(url, "x");
            if (stripped.Contains("${", StringComparison.Ordinal))
            {
                problem = $"'{url}' has a malformed ${{NAME}} variable";
                return false;
            }

            return true;
        }

        return IsHttp(url, out problem);
    }

    /// <summary>Expands <c>${NAME}</c>; fails with the variable's name (never its value) when unset or not http(s).</summary>
    public static bool TryExpand(string url, Func<string, string?> environment, out Uri? uri, out string? problem)
    {
        uri = null;
        problem = null;
        var missing = new List<string>();
        var expanded = Variable().Replace(url, m =>
        {
            var value = environment(m.Groups["name"].Value);
            if (string.IsNullOrEmpty(value))
            {
                missing.Add(m.Groups["name"].Value);
            }

            return value ?? string.Empty;
        });
        if (missing.Count > 0)
        {
            problem = $"environment variable {string.Join(", ", missing)} is not set";
            return false;
        }

        if (!IsHttp(expanded, out var bad))
        {
            problem = url.Contains("${", StringComparison.Ordinal) ? "the expanded URL is not an http(s) URL" : bad;
            return false;
        }

        uri = new Uri(expanded);
        return true;
    }

    /// <summary>What may be printed of a URL: scheme, host and port.</summary>
    public static string Redact(Uri uri) => $"{uri.Scheme}://{uri.Authority}/…";

    private static bool IsHttp(string url, out string? problem)
    {
        problem = null;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0)
        {
            return true;
        }

        problem = $"'{url}' is not an http(s) URL";
        return false;
    }
}
