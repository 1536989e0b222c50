using System.Globalization;
using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private static readonly string[] HttpKeys = ["url", "method", "headers", "body", "success_codes", "timeout", "resend", "on_restart", "aws"];

    [GeneratedRegex(@"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    [GeneratedRegex(@"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HttpToken();

    private sealed partial class Reader
    {
        /// <summary><c>run: { http: { url, method, headers, body, success_codes, timeout, resend, on_restart, aws: { service, region } } }</c>.</summary>
        private RunSpec.Http? ReadHttp(YamlNode node, string name)
        {
            if (node is not YamlMappingNode http)
            {
                Error(node, $"job '{name}': run.http must be a mapping with at least 'url'");
                return null;
            }

            CheckKeys(http, HttpKeys, $"run.http of job '{name}'");
            var errorsBefore = errors.Count;
            var url = OptionalScalar(http, "url");
            if (url is null)
            {
                Error(http, $"job '{name}': run.http needs 'url'");
            }
            else if (!LooksLikeHttpUrl(url))
            {
                Error(Get(http, "url")!, $"job '{name}': run.http.url '{Shown(url)}' is not an http:// or https:// URL");
            }

            var method = (OptionalScalar(http, "method") ?? "POST").ToUpperInvariant();
            if (!HttpToken().IsMatch(method))
            {
                Error(Get(http, "method")!, $"job '{name}': run.http.method '{Shown(method)}' is not an HTTP method (POST, PUT, GET…)");
            }

            var headers = new List<KeyValuePair<string, string>>();
            if (Get(http, "headers") is { } headersNode)
            {
                if (headersNode is not YamlMappingNode map)
                {
                    Error(headersNode, $"job '{name}': run.http.headers must be a mapping of header names to values");
                }
                else
                {
                    foreach (var (k, v) in map.Children)
                    {
                        if (k is not YamlScalarNode { Value: { } header } || !HttpToken().IsMatch(header))
                        {
                            Error(k, $"job '{name}': run.http.headers: '{Shown((k as YamlScalarNode)?.Value ?? "?")}' is not a header name");
                        }
                        else if (v is not YamlScalarNode { Value: { } value } || value.Any(c => c is '\r' or '\n' or '\0'))
                        {
                            Error(v, $"job '{name}': run.http.headers.{header} must be one line of text");
                        }
                        else
                        {
                            headers.Add(new(header, value));
                        }
                    }
                }
            }

            var body = Get(http, "body") is { } bodyNode ? ReadBody(bodyNode, name, root: true) : null;
            var codes = new List<int>();
            if (Get(http, "success_codes") is { } codesNode)
            {
                if (codesNode is not YamlSequenceNode seq || seq.Children.Count == 0)
                {
                    Error(codesNode, $"job '{name}': run.http.success_codes must be a list of HTTP statuses, e.g. [200, 202]");
                }
                else
                {
                    foreach (var c in seq.Children)
                    {
                        if (c is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
                        {
                            codes.Add(code);
                        }
                        else
                        {
                            Error(c, $"job '{name}': run.http.success_codes: '{Shown((c as YamlScalarNode)?.Value ?? "?")}' is not an HTTP status (100-599)");
                        }
                    }
                }
            }

            var timeout = DurationValue(http, "timeout") ?? TimeSpan.FromSeconds(30);
            if (timeout <= TimeSpan.Zero)
            {
                Error(Get(http, "timeout")!, $"job '{name}': run.http.timeout must be positive");
            }

            var resend = true;
            if (Get(http, "resend") is { } resendNode && Scalar(resendNode, "resend") is { } resendText && !bool.TryParse(resendText, out resend))
            {
                Error(resendNode, $"job '{name}': run.http.resend must be true or false, not '{Shown(resendText)}'");
            }

            var onRestart = RemoteRestart.Wait;
            if (Get(http, "on_restart") is { } restartNode && Scalar(restartNode, "on_restart") is { } restartText)
            {
                switch (restartText)
                {
                    case "wait":
                        break;
                    case "resend":
                        onRestart = RemoteRestart.Resend;
                        break;
                    default:
                        Error(restartNode, $"job '{name}': run.http.on_restart must be wait (the default: after a restart, wait for the marker without sending again) or resend (send the same attempt again, for a target with an idempotency key), not '{Shown(restartText)}'");
                        break;
                }
            }

            AwsSigning? aws = null;
            if (Get(http, "aws") is { } awsNode)
            {
                if (awsNode is not YamlMappingNode a)
                {
                    Error(awsNode, $"job '{name}': run.http.aws must be {{ service: NAME, region: REGION }}");
                }
                else
                {
                    CheckKeys(a, ["service", "region"], $"run.http.aws of job '{name}'");
                    var service = OptionalScalar(a, "service");
                    var region = OptionalScalar(a, "region");
                    if (service is null || !S3Names.IsRegion(service) || region is null || !S3Names.IsRegion(region))
                    {
                        Error(a, $"job '{name}': run.http.aws needs 'service' (its signing name, e.g. states, glue) and 'region' (e.g. us-east-1)");
                    }
                    else
                    {
                        aws = new AwsSigning(service, region);
                    }
                }
            }

            if (errors.Count > errorsBefore || url is null)
            {
                return null;
            }

            return new RunSpec.Http(new HttpActivation { Url = url, Method = method, Headers = headers, Body = body, SuccessCodes = codes, Timeout = timeout, Resend = resend, OnRestart = onRestart, Aws = aws })
            {
                Location = At(node),
            };
        }

        /// <summary>
        /// YAML to a JSON template: mappings, lists, strings (templates); a plain (unquoted) number,
        /// true, false or null stays that JSON value; <c>!json</c> makes a value one string of its JSON text.
        /// </summary>
        private BodyTemplate? ReadBody(YamlNode node, string name, bool root = false)
        {
            if (node.Tag.IsLocal && node.Tag.Value == "!json")
            {
                return ReadBody(WithoutTag(node), name) is { } inner ? new BodyTemplate.Embedded(inner) : null;
            }

            switch (node)
            {
                case YamlMappingNode map:
                    var members = new List<KeyValuePair<string, BodyTemplate>>();
                    foreach (var (k, v) in map.Children)
                    {
                        if (k is not YamlScalarNode { Value: { } key })
                        {
                            Error(k, $"job '{name}': run.http.body keys must be plain text");
                            continue;
                        }

                        if (ReadBody(v, name) is { } value)
                        {
                            members.Add(new(key, value));
                        }
                    }

                    return new BodyTemplate.Members(members);
                case YamlSequenceNode seq:
                    var items = new List<BodyTemplate>();
                    foreach (var item in seq.Children)
                    {
                        if (ReadBody(item, name) is { } value)
                        {
                            items.Add(value);
                        }
                    }

                    return new BodyTemplate.Items(items);
                case YamlScalarNode { Value: var text } scalar:
                    if (root)
                    {
                        Error(node, $"job '{name}': run.http.body must be a mapping or a list (it is sent as JSON; values with placeholders are JSON-escaped)");
                        return null;
                    }

                    text ??= string.Empty;
                    if (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && (text is "true" or "false" or "null" || JsonNumber().IsMatch(text)))
                    {
                        return new BodyTemplate.Literal(text);
                    }

                    if (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && text is "~" or "")
                    {
                        return new BodyTemplate.Literal("null");
                    }

                    return new BodyTemplate.Text(text);
                default:
                    Error(node, $"job '{name}': run.http.body holds something that is not JSON");
                    return null;
            }
        }

        private static YamlNode WithoutTag(YamlNode node) => node switch
        {
            YamlMappingNode m => new YamlMappingNode(m.Children) { Style = m.Style },
            YamlSequenceNode s => new YamlSequenceNode(s.Children) { Style = s.Style },
            YamlScalarNode s => new YamlScalarNode(s.Value) { Style = s.Style },
            _ => node,
        };

        /// <summary>http(s) once placeholders and <c>${ENV}</c> are given sample values (the executor checks the rendered URL again).</summary>
        private static bool LooksLikeHttpUrl(string url)
        {
            var sample = Regex.Replace(url, @"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_.-]*\}", "x");
            if (url.StartsWith("${", StringComparison.Ordinal))
            {
                sample = "http://" + sample;
            }

            return Uri.TryCreate(sample, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
        }
    }
}
