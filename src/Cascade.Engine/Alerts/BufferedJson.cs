using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Cascade.Engine.Alerts;

/// <summary>
/// A JSON request body serialized up front and sent with a Content-Length. (<c>PostAsJsonAsync</c>
/// streams the body chunked, without a length, and simple webhook receivers then read it as empty.)
/// </summary>
internal static class BufferedJson
{
    public static ByteArrayContent Create<T>(T value, JsonTypeInfo<T> type)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        content.Headers.ContentLength = bytes.Length;
        return content;
    }
}
