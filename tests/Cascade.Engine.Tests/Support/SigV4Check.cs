using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Cascade.Engine.Tests.Alerts;

namespace Cascade.Engine.Tests.Support;

/// <summary>
/// Checks an AWS Signature Version 4 <c>Authorization</c> header as AWS does, written here from the
/// published algorithm (not the SDK's code), for the receiver of signed activations: the canonical
/// request from what arrived, the string to sign, the signing key from the secret, the signature.
/// Paths and queries are the plain ones the recipes use (no characters that need escaping).
/// </summary>
internal static partial class SigV4Check
{
    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, ?SignedHeaders=(?<signed>[^,]+), ?Signature=(?<sig>[0-9a-f]{64})$")]
    private static partial Regex Authorization();

    /// <summary>Null when the request is signed correctly with these credentials for this service and region; else what is wrong.</summary>
    public static string? Problem(ReceivedRequest request, string accessKey, string secretKey, string service, string region)
    {
        if (!request.Headers.TryGetValue("Authorization", out var auth) || Authorization().Match(auth) is not { Success: true } m)
        {
            return "no SigV4 Authorization header";
        }

        if (m.Groups["key"].Value != accessKey || m.Groups["service"].Value != service || m.Groups["region"].Value != region)
        {
            return $"signed for {m.Groups["key"].Value}/{m.Groups["region"].Value}/{m.Groups["service"].Value}";
        }

        var amzDate = request.Headers.GetValueOrDefault("X-Amz-Date") ?? string.Empty;
        if (!amzDate.StartsWith(m.Groups["date"].Value, StringComparison.Ordinal))
        {
            return "X-Amz-Date does not match the credential's date";
        }

        var signed = m.Groups["signed"].Value.Split(';');
        if (!signed.Contains("host") || !signed.Contains("x-amz-date"))
        {
            return "host and x-amz-date are not signed";
        }

        var parts = request.RawPath.Split('?', 2);
        var query = parts.Length == 2
            ? string.Join('&', parts[1].Split('&').Select(p => p.Split('=', 2)).Select(p => (p[0], p.Length == 2 ? p[1] : string.Empty)).OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal).Select(p => $"{p.Item1}={p.Item2}"))
            : string.Empty;
        var headers = string.Concat(signed.Select(h => $"{h}:{Regex.Replace((request.Headers.GetValueOrDefault(h) ?? string.Empty).Trim(), " +", " ")}\n"));
        var payload = Hex(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body)));
        if (request.Headers.TryGetValue("X-Amz-Content-Sha256", out var claimed) && claimed != payload)
        {
            return "x-amz-content-sha256 is not the body's hash";
        }

        var canonical = $"{request.Method}\n{parts[0]}\n{query}\n{headers}\n{m.Groups["signed"].Value}\n{payload}";
        var scope = $"{m.Groups["date"].Value}/{region}/{service}/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), m.Groups["date"].Value), region), service), "aws4_request");
        var expected = Hex(Hmac(key, toSign));
        return expected == m.Groups["sig"].Value ? null : "the signature does not match";
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
