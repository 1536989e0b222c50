using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors.Http;

/// <summary>An HTTP activation with every placeholder and <c>${ENV}</c> filled in, ready to send.</summary>
internal sealed record RenderedRequest(string Method, Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[]? Body);

/// <summary>
/// Fills in an <see cref="HttpActivation"/> in one pass over each template, so that no value is
/// ever read as a template again (a param holding <c>${SECRET}</c> or <c>{job}</c> stays that text):
/// in the URL each placeholder value is URL-escaped (<c>${ENV}</c> is inserted as is: it may hold a
/// base URL); in header values values are inserted as they are, and a line break refuses the run
/// (no header injection); the body is written by a JSON writer, so every value is JSON-escaped
/// inside its string, and a <c>!json</c> value is rendered to JSON text first and then escaped as
/// one string.
/// </summary>
internal static partial class HttpRendering
{
    [GeneratedRegex(@"\$\{(?<env>[A-Za-z_][A-Za-z0-9_]*)\}|\{(?<name>[A-Za-z_][A-Za-z0-9_.-]*)\}")]
    private static partial Regex Token();

    /// <summary>The request, or why it cannot be sent (never retried: the same inputs give the same answer).</summary>
    public static RenderedRequest? Render(HttpActivation spec, Activation activation, Func<string, string?> environment, out string? problem)
    {
        var missingEnv = new SortedSet<string>(StringComparer.Ordinal);
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        string Fill(string template, Func<string, string> escape)
        {
            return Token().Replace(template, m =>
            {
                if (m.Groups["env"].Success)
                {
                    var name = m.Groups["env"].Value;
                    if (environment(name) is { Length: > 0 } value)
                    {
                        return value;
                    }

                    missingEnv.Add(name);
                    return string.Empty;
                }

                var placeholder = m.Groups["name"].Value;
                if (Value(activation, placeholder) is { } v)
                {
                    return escape(v);
                }

                missing.Add(placeholder);
                return string.Empty;
            });
        }

        var url = Fill(spec.Url, Uri.EscapeDataString);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, template) in spec.Headers)
        {
            headers.Add(new(name, Fill(template, v => v)));
        }

        byte[]? body = null;
        if (spec.Body is { } bodyTemplate)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                Write(writer, bodyTemplate, t => Fill(t, v => v));
            }

            body = stream.ToArray();
        }

        if (missingEnv.Count > 0)
        {
            problem = $"environment variable {string.Join(", ", missingEnv)} is not set (run.http)";
            return null;
        }

        if (missing.Count > 0)
        {
            problem = $"no value for {string.Join(", ", missing.Select(m => "{" + m + "}"))} in run.http";
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            problem = "run.http.url is not an http(s) URL once filled in";
            return null;
        }

        foreach (var (name, value) in headers)
        {
            if (value.Any(c => c is '\r' or '\n' or '\0'))
            {
                problem = $"the value of header {name} holds a line break once filled in (refused: it would split the request)";
                return null;
            }
        }

        problem = null;
        return new RenderedRequest(spec.Method, uri, headers, body);
    }

    private static string? Value(Activation activation, string placeholder)
    {
        if (placeholder == "attempt")
        {
            return activation.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (activation.Values.TryGetValue(placeholder, out var v))
        {
            return v;
        }

        return placeholder.StartsWith("params.", StringComparison.Ordinal) && activation.Params.TryGetValue(placeholder[7..], out var p) ? p : null;
    }

    private static void Write(Utf8JsonWriter writer, BodyTemplate node, Func<string, string> fill)
    {
        switch (node)
        {
            case BodyTemplate.Text t:
                writer.WriteStringValue(fill(t.Template));
                break;
            case BodyTemplate.Literal l:
                writer.WriteRawValue(l.Json, skipInputValidation: false);
                break;
            case BodyTemplate.Members o:
                writer.WriteStartObject();
                foreach (var (key, value) in o.Entries)
                {
                    writer.WritePropertyName(key);
                    Write(writer, value, fill);
                }

                writer.WriteEndObject();
                break;
            case BodyTemplate.Items a:
                writer.WriteStartArray();
                foreach (var item in a.Values)
                {
                    Write(writer, item, fill);
                }

                writer.WriteEndArray();
                break;
            case BodyTemplate.Embedded e:
                using (var inner = new MemoryStream())
                {
                    using (var innerWriter = new Utf8JsonWriter(inner))
                    {
                        Write(innerWriter, e.Value, fill);
                    }

                    writer.WriteStringValue(Encoding.UTF8.GetString(inner.ToArray()));
                }

                break;
        }
    }
}
