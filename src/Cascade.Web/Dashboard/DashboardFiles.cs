using System.Collections.Frozen;
using System.IO.Hashing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cascade.Web.Dashboard;

/// <summary>
/// The dashboard's static files, embedded in the binary (<c>Dashboard/wwwroot</c>, ADR 15): <c>GET /</c>
/// is the page, <c>GET /ui/{file}</c> its scripts, styles and icon. Every answer carries a strict
/// Content-Security-Policy (scripts and styles from this server only, no inline script, no other
/// origin), so even a value that reached the page as HTML could not run; the page itself sets every
/// value from the API as text. ETags let a browser keep the files between reloads.
/// </summary>
internal static class DashboardFiles
{
    public const string Prefix = "dashboard/";

    /// <summary>What a dashboard answer may load: itself only. Styles set from script (CSSOM) are allowed; inline style attributes are not.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", context => ServeAsync(context, "index.html"));
        app.MapGet("/ui/{file}", context => ServeAsync(context, context.Request.RouteValues["file"] as string ?? string.Empty));
    }

    /// <summary>The names of the embedded files (for tests).</summary>
    internal static IEnumerable<string> Names => Assets.Value.Keys;

    private static async Task ServeAsync(HttpContext context, string name)
    {
        if (!Assets.Value.TryGetValue(name, out var asset))
        {
            throw ProblemException.NotFound($"the dashboard has no file {name}");
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardFiles).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource[Prefix.Length..].Replace('\\', '/');
            var etag = "\"" + Convert.ToHexStringLower(XxHash128.Hash(bytes)) + "\"";
            assets[name] = new Asset(bytes, TypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string TypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json; charset=utf-8",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
