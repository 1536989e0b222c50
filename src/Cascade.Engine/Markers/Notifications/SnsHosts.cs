namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// The rule for the URLs an SNS message names: a signing certificate (<c>SigningCertURL</c>) and a
/// subscription's <c>SubscribeURL</c> are fetched only over https from a host the pipeline allows
/// (<c>events.sns.certificate_hosts</c>; by default SNS's own, <c>sns.*.amazonaws.com[.cn]</c>, where
/// <c>*</c> is exactly one DNS label), so a forged message cannot make Cascade fetch from anywhere else.
/// </summary>
public static class SnsHosts
{
    /// <summary>Why <paramref name="url"/> may not be fetched, or null when it may.</summary>
    public static string? Problem(string? url, IReadOnlyList<string> hosts, string what, bool certificate)
    {
        if (url is null)
        {
            return $"the message has no {what}";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            return $"its {what} '{S3EventParser.Shown(url)}' is not an https URL";
        }

        if (uri.UserInfo.Length > 0 || !hosts.Any(h => Matches(uri.Host, h)))
        {
            return $"its {what} is on {S3EventParser.Shown(uri.Host)}, not an SNS host ({string.Join(", ", hosts)}; events.sns.certificate_hosts)";
        }

        if (certificate && !uri.AbsolutePath.EndsWith(".pem", StringComparison.Ordinal))
        {
            return $"its {what} does not name a .pem certificate";
        }

        return null;
    }

    /// <summary>Whether <paramref name="host"/> matches <paramref name="pattern"/>: label by label, <c>*</c> matching one whole label.</summary>
    public static bool Matches(string host, string pattern)
    {
        var labels = host.TrimEnd('.').Split('.');
        var parts = pattern.Split('.');
        if (labels.Length != parts.Length)
        {
            return false;
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i].Length == 0 || (parts[i] != "*" && !string.Equals(parts[i], labels[i], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }
}
