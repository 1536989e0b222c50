using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cascade.Web.Api;

/// <summary>
/// <c>GET /openapi.json</c>: the OpenAPI 3.1 document, written by hand beside the handlers (they
/// bind nothing by reflection, so a generator would know little of them); a test checks that it
/// lists exactly the endpoints served.
/// </summary>
internal static class OpenApiDocument
{
    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream("openapi.json")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/openapi.json", async context =>
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = Document.Value.Length;
        await context.Response.Body.WriteAsync(Document.Value, context.RequestAborted);
    });
}
