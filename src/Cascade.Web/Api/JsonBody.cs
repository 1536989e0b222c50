using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cascade.Web.Api;

/// <summary>
/// A request body: JSON, at most <see cref="MaxBytes"/>, an object whose members are all known.
/// Every refusal is an <see cref="ProblemException"/> naming the field and the cause, raised before
/// anything is changed.
/// </summary>
internal sealed class JsonBody : IDisposable
{
    public const int MaxBytes = 64 * 1024;
    private readonly JsonDocument _document;

    private JsonBody(JsonDocument document) => _document = document;

    public JsonElement Root => _document.RootElement;

    /// <summary>Reads the body; an empty body is an empty object (every field optional or missing).</summary>
    public static async Task<JsonBody> ReadAsync(HttpContext context, IReadOnlyCollection<string> fields)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBytes)
        {
            throw new ProblemException(StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture, $"the body is {request.ContentLength} bytes; at most {MaxBytes} bytes (64 KiB) are accepted"));
        }

        if (request.ContentType is { } type && !request.HasJsonContentType())
        {
            throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, $"the body is '{type}'; send application/json");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var length = 0;
            int read;
            try
            {
                while (length <= MaxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBytes + 1 - length), context.RequestAborted)) > 0)
                {
                    length += read;
                }
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                length = MaxBytes + 1;
            }

            if (length > MaxBytes)
            {
                throw new ProblemException(StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture, $"the body is over {MaxBytes} bytes (64 KiB), the most accepted"));
            }

            JsonDocument document;
            try
            {
                document = length == 0 || buffer.AsSpan(0, length).Trim(" \t\r\n"u8).IsEmpty
                    ? JsonDocument.Parse("{}")
                    : JsonDocument.Parse(buffer.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 32 });
            }
            catch (JsonException e)
            {
                throw ProblemException.BadRequest($"the body is not valid JSON: {Shorten(e.Message)}");
            }

            if (document.RootElement.ValueKind is var kind && kind != JsonValueKind.Object)
            {
                document.Dispose();
                throw ProblemException.BadRequest($"the body must be a JSON object, not {Kind(kind)}");
            }

            foreach (var member in document.RootElement.EnumerateObject())
            {
                if (!fields.Contains(member.Name))
                {
                    var name = member.Name;
                    document.Dispose();
                    throw ProblemException.BadRequest($"unknown field '{name}' (fields: {string.Join(", ", fields)})", name);
                }
            }

            return new JsonBody(document);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public string RequiredString(string name) =>
        OptionalString(name) ?? throw ProblemException.BadRequest($"{name} is required (a string)", name);

    public string? OptionalString(string name) => Root.TryGetProperty(name, out var v) switch
    {
        false => null,
        true when v.ValueKind == JsonValueKind.Null => null,
        true when v.ValueKind == JsonValueKind.String => v.GetString()!.Contains('\0', StringComparison.Ordinal)
            ? throw ProblemException.BadRequest($"{name} contains a NUL character", name)
            : v.GetString(),
        _ => throw ProblemException.BadRequest($"{name} must be a string, not {Kind(v.ValueKind)}", name),
    };

    public bool Bool(string name) => Root.TryGetProperty(name, out var v) switch
    {
        false => false,
        true => v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw ProblemException.BadRequest($"{name} must be true or false, not {Kind(v.ValueKind)}", name),
        },
    };

    public int? OptionalInt(string name) => Root.TryGetProperty(name, out var v) switch
    {
        false => null,
        true when v.ValueKind == JsonValueKind.Null => null,
        true when v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) => n,
        _ => throw ProblemException.BadRequest($"{name} must be a whole number", name),
    };

    /// <summary>A list of strings, or a single string as a list of one.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            return [v.GetString()!];
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw ProblemException.BadRequest($"{name} must be a list of strings, not {Kind(v.ValueKind)}", name);
        }

        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw ProblemException.BadRequest($"{name} must hold strings only, not {Kind(e.ValueKind)}", name)).ToList();
    }

    /// <summary>An object of string values (params): names as markers allow them.</summary>
    public SortedDictionary<string, string> StringMap(string name)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Object(name))
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                throw ProblemException.BadRequest($"{name}.{key} must be a string, not {Kind(value.ValueKind)}", $"{name}.{key}");
            }

            if (value.GetString()!.Contains('\0', StringComparison.Ordinal))
            {
                throw ProblemException.BadRequest($"{name}.{key} contains a NUL character", $"{name}.{key}");
            }

            result[key] = value.GetString()!;
        }

        return result;
    }

    /// <summary>An object's members by name (meta: any JSON value), names checked.</summary>
    public SortedDictionary<string, JsonElement> Object(string name)
    {
        var result = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            throw ProblemException.BadRequest($"{name} must be an object, not {Kind(v.ValueKind)}", name);
        }

        foreach (var member in v.EnumerateObject())
        {
            if (!Core.Markers.MarkerBody.IsParamName(member.Name))
            {
                throw ProblemException.BadRequest($"{name}: '{member.Name}' is not a valid name (letters, digits, '_' and '-', starting with a letter)", $"{name}.{member.Name}");
            }

            if (!result.TryAdd(member.Name, member.Value.Clone()))
            {
                throw ProblemException.BadRequest($"{name}: '{member.Name}' is given twice", $"{name}.{member.Name}");
            }
        }

        return result;
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Shorten(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    public void Dispose() => _document.Dispose();
}
