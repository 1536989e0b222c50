using System.Text;
using System.Text.Json;
using Cascade.Core.Model;

namespace Cascade.Core.Markers;

/// <summary>
/// What a marker says beyond "done": <c>params</c> (strings passed to downstream runs of the same
/// partition) and every other key as metadata. A bad body never makes a marker "not done": it
/// becomes a <see cref="Warning"/> on the run.
/// </summary>
public sealed record MarkerBody
{
    public const int MaxBytes = 64 * 1024;

    // Declared before Empty: static initializers run in text order.
    private static readonly IReadOnlyDictionary<string, JsonElement> NoMeta = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal).AsReadOnly();

    public static readonly MarkerBody Empty = new();

    public IReadOnlyDictionary<string, string> Params { get; init; } = EmptyParams.Instance;

    /// <summary>Metadata as raw JSON values, keyed by name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Meta { get; init; } = NoMeta;

    public string? Warning { get; init; }

    /// <summary>The body is not JSON: maybe not yet (a producer still writing it in place), so the engine reads it again before it judges it.</summary>
    public bool IsUnparsable { get; init; }

    public static MarkerBody Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            return TooLarge(utf8.Length);
        }

        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8 = utf8[3..]; // a UTF-8 byte order mark, as some editors write
        }

        if (utf8.IsEmpty || IsWhiteSpace(utf8))
        {
            return Empty;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            return new MarkerBody { Warning = $"marker body is not valid JSON ({Shorten(e.Message)}); ignored", IsUnparsable = true };
        }

        using (doc)
        {
            try
            {
                return FromDocument(doc);
            }
            catch (InvalidOperationException e)
            {
                // Valid JSON that is not valid text, e.g. a lone UTF-16 surrogate ("\ud800") in a name or value.
                return new MarkerBody { Warning = $"marker body is not valid JSON text ({Shorten(e.Message)}); ignored" };
            }
        }
    }

    private static MarkerBody FromDocument(JsonDocument doc)
    {
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new MarkerBody { Warning = $"marker body must be a JSON object, not {doc.RootElement.ValueKind}; ignored" };
            }

            var meta = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
            var prms = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var warnings = new List<string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name != "params")
                {
                    meta[prop.Name] = prop.Value.Clone();
                    continue;
                }

                if (prop.Value.ValueKind != JsonValueKind.Object)
                {
                    warnings.Add("'params' must be an object of strings; ignored");
                    continue;
                }

                foreach (var p in prop.Value.EnumerateObject())
                {
                    if (!IsParamName(p.Name))
                    {
                        warnings.Add($"param name '{Shorten(p.Name)}' is not a valid name; ignored");
                    }
                    else if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        prms[p.Name] = p.Value.GetString()!;
                    }
                    else if (p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    {
                        prms[p.Name] = p.Value.GetRawText();
                    }
                    else
                    {
                        warnings.Add($"param '{p.Name}' must be a string; ignored");
                    }
                }
            }

            var body = new MarkerBody
            {
                Params = prms,
                Meta = meta,
                Warning = warnings.Count == 0 ? null : string.Join("; ", warnings),
            };
            if (meta.Count > 0)
            {
                _ = body.ToJson(); // metadata is written out again (status, markers): prove it can be, here
            }

            return body;
        }
    }

    /// <summary>The body of a marker over <see cref="MaxBytes"/>: no params, a warning (the marker still counts as done).</summary>
    public static MarkerBody TooLarge(long bytes) =>
        new() { Warning = $"marker body is {bytes} bytes, over the {MaxBytes} byte limit; ignored" };

    public static MarkerBody Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    /// <summary>The body as JSON (params and metadata), or empty when there is nothing to say.</summary>
    public string ToJson()
    {
        if (Params.Count == 0 && Meta.Count == 0)
        {
            return string.Empty;
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in Meta)
            {
                w.WritePropertyName(k);
                v.WriteTo(w);
            }

            if (Params.Count > 0)
            {
                w.WriteStartObject("params");
                foreach (var (k, v) in Params)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Param names are identifiers so that <c>{params.NAME}</c> can name them.</summary>
    public static bool IsParamName(string name) =>
        name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static bool IsWhiteSpace(ReadOnlySpan<byte> utf8)
    {
        foreach (var b in utf8)
        {
            if (b is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(string s) => s.Length > 80 ? s[..80] + "…" : s;
}
