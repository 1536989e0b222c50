using System.Text.RegularExpressions;

namespace Cascade.Core.Pipelines;

/// <summary>Job names: <c>^[a-z0-9][a-z0-9_-]*$</c>, never containing <c>__</c> (the marker separator).</summary>
public static partial class JobName
{
    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]*\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= 128 } && Pattern().IsMatch(name) && !name.Contains("__", StringComparison.Ordinal);

    public static string Problem(string name) =>
        name.Contains("__", StringComparison.Ordinal)
            ? $"job name '{name}' must not contain '__' (it separates job and partition in marker names)"
            : $"job name '{name}' is not valid: use lower-case letters, digits, '_' and '-', starting with a letter or digit";
}
