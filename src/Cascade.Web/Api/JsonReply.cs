using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cascade.Web.Api;

/// <summary>Writes a JSON answer with <see cref="Utf8JsonWriter"/> (the shapes the CLI's <c>--json</c> prints; no reflection).</summary>
internal static class JsonReply
{
    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(w);
        }

        buffer.WriteByte((byte)'\n');
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    public static Task OkAsync(HttpContext context, Action<Utf8JsonWriter> write) => WriteAsync(context, StatusCodes.Status200OK, write);
}
