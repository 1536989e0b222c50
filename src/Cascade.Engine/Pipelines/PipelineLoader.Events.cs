using System.Globalization;
using System.Text.RegularExpressions;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private static readonly string[] EventKeys = ["sns", "sqs"];
    private static readonly string[] SqsKeys = ["queue_url", "region", "endpoint", "wait_seconds", "visibility_timeout", "max_messages"];
    private static readonly string[] SnsKeys = ["topics", "verify_signatures", "certificate_hosts"];

    [GeneratedRegex("^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\\.fifo)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicArn();

    [GeneratedRegex("^(?:\\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\\.(?:\\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))*$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPattern();

    private sealed partial class Reader
    {
        /// <summary>
        /// <c>events: { sns: { topics: [arn…], verify_signatures: true, certificate_hosts: [host…] }, sqs: { queue_url, … } }</c>;
        /// only over a bucket (a folder is watched by itself).
        /// </summary>
        private EventSettings ReadEvents(YamlMappingNode root, MarkerSettings store)
        {
            if (Get(root, "events") is not { } node)
            {
                return EventSettings.None;
            }

            if (node is not YamlMappingNode events)
            {
                Error(node, "'events' must be a mapping, e.g. events: { sns: { topics: [arn:aws:sns:us-east-1:123456789012:done] } }");
                return EventSettings.None;
            }

            if (store is not MarkerSettings.S3)
            {
                Error(node, "'events' needs markers in a bucket (markers.s3): notifications come from S3; a marker folder is watched by itself");
            }

            CheckKeys(events, EventKeys, "events");
            return new EventSettings
            {
                Sns = Get(events, "sns") is { } sns ? ReadSns(sns) : null,
                Sqs = Get(events, "sqs") is { } sqs ? ReadSqs(sqs) : null,
            };
        }

        private SnsSettings? ReadSns(YamlNode node)
        {
            if (node is not YamlMappingNode sns)
            {
                Error(node, "events.sns must be a mapping: { topics: [arn:aws:sns:REGION:ACCOUNT:NAME], verify_signatures: true }");
                return null;
            }

            CheckKeys(sns, SnsKeys, "events.sns");
            var topics = StringList(sns, "topics", "events.sns.topics");
            if (Get(sns, "topics") is null)
            {
                Error(sns, "events.sns needs 'topics': the ARNs of the SNS topics whose messages are accepted");
            }
            else if (topics.Count == 0)
            {
                Error(Get(sns, "topics")!, "events.sns.topics is empty: list the ARNs of the SNS topics whose messages are accepted");
            }

            foreach (var (topic, at) in topics.Where(t => !TopicArn().IsMatch(t.Value)))
            {
                Error(at, $"events.sns.topics: '{Shown(topic)}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME, e.g. arn:aws:sns:us-east-1:123456789012:done)");
            }

            var verify = true;
            if (Get(sns, "verify_signatures") is { } verifyNode && Scalar(verifyNode, "verify_signatures") is { } text && !bool.TryParse(text, out verify))
            {
                Error(verifyNode, $"events.sns.verify_signatures must be true or false, not '{Shown(text)}'");
                verify = true;
            }

            var hosts = SnsSettings.DefaultCertificateHosts;
            if (Get(sns, "certificate_hosts") is { } hostsNode)
            {
                var given = StringList(sns, "certificate_hosts", "events.sns.certificate_hosts");
                foreach (var (host, at) in given.Where(h => !IsHostPattern(h.Value)))
                {
                    Error(at, $"events.sns.certificate_hosts: '{Shown(host)}' is not a host name (lower case, e.g. sns.*.amazonaws.com, where * is one label, or 127.0.0.1 for a test)");
                }

                if (given.Count == 0)
                {
                    Error(hostsNode, "events.sns.certificate_hosts is empty: leave it out for SNS's own hosts (sns.*.amazonaws.com)");
                }
                else
                {
                    hosts = given.Select(h => h.Value).ToList();
                }
            }

            return new SnsSettings(topics.Select(t => t.Value).Distinct(StringComparer.Ordinal).ToList(), verify, hosts);
        }

        private static bool IsHostPattern(string host) =>
            HostPattern().IsMatch(host) && host.Contains('.', StringComparison.Ordinal) && !host.EndsWith(".*", StringComparison.Ordinal) && host.Length <= 253;

        /// <summary>A list of strings (a single string counts as a list of one), each with where it stands.</summary>
        private List<(string Value, YamlNode At)> StringList(YamlMappingNode map, string key, string what)
        {
            var result = new List<(string, YamlNode)>();
            switch (Get(map, key))
            {
                case null:
                    break;
                case YamlScalarNode { Value: { Length: > 0 } one } scalar:
                    result.Add((one, scalar));
                    break;
                case YamlSequenceNode seq:
                    foreach (var item in seq.Children)
                    {
                        if (item is YamlScalarNode { Value: { Length: > 0 } v })
                        {
                            result.Add((v, item));
                        }
                        else
                        {
                            Error(item, $"{what}: every entry must be a string");
                        }
                    }

                    break;
                case var other:
                    Error(other, $"{what} must be a list of strings");
                    break;
            }

            return result;
        }

        private SqsSettings? ReadSqs(YamlNode node)
        {
            if (node is not YamlMappingNode sqs)
            {
                Error(node, "events.sqs must be a mapping: { queue_url: https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE, region: …, wait_seconds: 20, visibility_timeout: 60s, max_messages: 10 }");
                return null;
            }

            CheckKeys(sqs, SqsKeys, "events.sqs");
            var ok = true;
            var queueUrl = OptionalScalar(sqs, "queue_url");
            Uri? queue = null;
            if (queueUrl is null)
            {
                Error(sqs, "events.sqs needs 'queue_url' (the queue's URL, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/done)");
                ok = false;
            }
            else if (!IsHttpUrl(queueUrl, out queue) || queue.AbsolutePath.Trim('/').Length == 0)
            {
                Error(Get(sqs, "queue_url")!, $"events.sqs.queue_url '{Shown(queueUrl)}' is not a queue URL (http:// or https://, with the account and queue in the path: https://sqs.eu-west-1.amazonaws.com/123456789012/done)");
                ok = false;
            }

            var endpoint = OptionalScalar(sqs, "endpoint");
            if (endpoint is not null && !IsHttpUrl(endpoint, out _))
            {
                Error(Get(sqs, "endpoint")!, $"events.sqs.endpoint '{Shown(endpoint)}' is not an http:// or https:// URL (e.g. http://127.0.0.1:9324)");
                ok = false;
            }

            var region = OptionalScalar(sqs, "region");
            if (region is not null && !S3Names.IsRegion(region))
            {
                Error(Get(sqs, "region")!, $"events.sqs.region '{Shown(region)}' is not a region name (e.g. us-east-1)");
                ok = false;
            }

            var wait = Bounded(sqs, "wait_seconds", SqsSettings.DefaultWaitSeconds, 1, 20, "seconds (SQS long-polls at most 20 s)", ref ok);
            var max = Bounded(sqs, "max_messages", SqsSettings.DefaultMaxMessages, 1, 10, "messages (SQS hands out at most 10 at once)", ref ok);
            TimeSpan? visibility = null;
            if (Get(sqs, "visibility_timeout") is { } visibilityNode && Scalar(visibilityNode, "visibility_timeout") is { } text)
            {
                if (!Duration.TryParse(text, out var value) || value < TimeSpan.FromSeconds(1) || value > SqsSettings.MaxVisibilityTimeout || value.Ticks % TimeSpan.TicksPerSecond != 0)
                {
                    Error(visibilityNode, $"events.sqs.visibility_timeout '{Shown(text)}' is not a duration of whole seconds from 1s to 12h (e.g. 60s, 5m)");
                    ok = false;
                }
                else
                {
                    visibility = value;
                }
            }

            if (!ok || queue is null)
            {
                return null;
            }

            // On AWS the queue URL names the region; any other host is an SQS-compatible server that the
            // queue URL itself points at, unless an endpoint is given.
            var aws = AwsRegionOf(queue.Host, out var hostRegion);
            return new SqsSettings(
                queueUrl!,
                region ?? hostRegion,
                endpoint ?? (aws ? null : queue.GetLeftPart(UriPartial.Authority)),
                wait,
                visibility,
                max)
            {
                Location = At(node),
            };
        }

        private int Bounded(YamlMappingNode map, string key, int fallback, int min, int max, string unit, ref bool ok)
        {
            if (Get(map, key) is not { } node || Scalar(node, key) is not { } text)
            {
                return fallback;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            Error(node, $"events.sqs.{key} must be a whole number from {min} to {max} {unit}, not '{Shown(text)}'");
            ok = false;
            return fallback;
        }

        private static bool IsHttpUrl(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri) =>
            Uri.TryCreate(text, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Query.Length == 0 && uri.Fragment.Length == 0;

        /// <summary>Whether <paramref name="host"/> is AWS's (<c>sqs.REGION.amazonaws.com</c>, the legacy <c>REGION.queue.amazonaws.com</c>, China's <c>.com.cn</c>), and its region when it names one.</summary>
        private static bool AwsRegionOf(string host, out string? region)
        {
            region = null;
            var h = host.ToLowerInvariant();
            var aws = h.EndsWith(".amazonaws.com", StringComparison.Ordinal) || h.EndsWith(".amazonaws.com.cn", StringComparison.Ordinal);
            if (!aws)
            {
                return false;
            }

            var parts = h.Split('.');
            var candidate = parts[0] == "sqs" && parts.Length > 3 ? parts[1] : parts.Length > 3 && parts[1] == "queue" ? parts[0] : null;
            region = candidate is not null && S3Names.IsRegion(candidate) ? candidate : null;
            return true;
        }
    }
}
