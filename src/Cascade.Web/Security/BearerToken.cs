using System.Security.Cryptography;
using System.Text;

namespace Cascade.Web.Security;

/// <summary>
/// The API token (<c>CASCADE_API_TOKEN</c>): every POST must carry <c>Authorization: Bearer &lt;token&gt;</c>.
/// Compared in constant time over SHA-256 digests, so neither the content nor the length of the
/// token leaks through the time a refusal takes.
/// </summary>
public sealed class BearerToken
{
    private readonly byte[] _digest;

    public BearerToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>The token from the environment, or null when none is configured (an empty value counts as none).</summary>
    public static BearerToken? FromEnvironment(Func<string, string?> env) =>
        env("CASCADE_API_TOKEN") is { Length: > 0 } token ? new BearerToken(token) : null;

    /// <summary>Whether an <c>Authorization</c> header value carries this token; null when it is missing or not a bearer token.</summary>
    public bool Matches(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _digest);
    }
}
