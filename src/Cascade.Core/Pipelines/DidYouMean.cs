namespace Cascade.Core.Pipelines;

/// <summary>
/// The "did you mean" of error messages: the closest candidate within two edits (insertions,
/// deletions, substitutions), nearest first, then in ordinal order, so the hint is deterministic.
/// </summary>
public static class DidYouMean
{
    public const int MaxEdits = 2;

    public static string? Closest(string name, IEnumerable<string> candidates) =>
        candidates
            .Select(c => (Candidate: c, Edits: Distance(name, c)))
            .Where(x => x.Edits <= MaxEdits)
            .OrderBy(x => x.Edits)
            .ThenBy(x => x.Candidate, StringComparer.Ordinal)
            .Select(x => x.Candidate)
            .FirstOrDefault();

    /// <summary>The Levenshtein distance between <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
