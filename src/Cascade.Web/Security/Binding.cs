using System.Net;

namespace Cascade.Web.Security;

/// <summary>
/// Where the API listens, checked before anything starts: a loopback address serves this machine
/// only; any other address (0.0.0.0, a host name, <c>*</c>) is refused unless a token protects the
/// writes (<see cref="BearerToken"/>).
/// </summary>
public static class Binding
{
    /// <summary>The URLs of <c>--urls</c> (separated by <c>;</c>), or a refusal naming the one that is wrong.</summary>
    public static IReadOnlyList<Uri> Parse(string urls)
    {
        var list = new List<Uri>();
        foreach (var text in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards are not URIs: read them as the addresses they stand for.
            var normal = text.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normal, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                throw new WebConfigException($"--urls '{text}' is not an address to listen on (e.g. http://127.0.0.1:5170)");
            }

            list.Add(uri);
        }

        return list.Count > 0 ? list : throw new WebConfigException("--urls is empty: give an address to listen on (e.g. http://127.0.0.1:5170), or --no-web");
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Refuses a non-loopback address without a token; returns the parsed URLs.</summary>
    public static IReadOnlyList<Uri> Check(string urls, BearerToken? token)
    {
        var list = Parse(urls);
        if (token is null && list.FirstOrDefault(u => !IsLoopback(u)) is { } open)
        {
            throw new WebConfigException($"--urls {open.GetLeftPart(UriPartial.Authority)} is not a loopback address: anyone who reaches it could change state. Set CASCADE_API_TOKEN (every POST then needs it) or listen on 127.0.0.1");
        }

        return list;
    }
}
