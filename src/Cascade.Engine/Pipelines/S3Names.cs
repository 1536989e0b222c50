namespace Cascade.Engine.Pipelines;

/// <summary>What S3 accepts as a bucket name, key prefix and region, checked when the pipeline is loaded.</summary>
internal static class S3Names
{
    /// <summary>Why <paramref name="bucket"/> is not a bucket name (3-63 lowercase letters, digits, '.', '-'), or null.</summary>
    public static string? BucketProblem(string bucket)
    {
        if (bucket.Length is < 3 or > 63)
        {
            return "must be 3 to 63 characters long";
        }

        if (!bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
        {
            return "may hold only lowercase letters, digits, '.' and '-'";
        }

        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]) || bucket.Contains("..", StringComparison.Ordinal))
        {
            return "must start and end with a letter or digit and hold no '..'";
        }

        return null;
    }

    /// <summary>Why <paramref name="prefix"/> cannot hold markers, or null. An empty prefix is the whole bucket.</summary>
    public static string? PrefixProblem(string prefix)
    {
        if (prefix.StartsWith('/'))
        {
            return "must not start with '/' (keys have no leading slash: write done/, not /done/)";
        }

        if (prefix.Split('/').Any(part => part is "." or ".."))
        {
            return "must not hold '.' or '..' parts";
        }

        if (prefix.Any(char.IsControl))
        {
            return "must not hold control characters";
        }

        if (prefix.Length > 512)
        {
            return "is longer than 512 characters";
        }

        return null;
    }

    /// <summary>A non-empty prefix always ends in '/': <c>done</c> and <c>done/</c> name the same markers.</summary>
    public static string NormalPrefix(string prefix) => prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";

    public static bool IsRegion(string region) =>
        region.Length is > 0 and <= 40 && region.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
