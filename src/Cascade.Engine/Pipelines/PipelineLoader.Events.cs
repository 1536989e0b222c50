using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private static readonly string[] EventKeys = ["sqs"];
    private static readonly string[] SqsKeys = ["queue_url", "region", "endpoint", "wait_seconds", "visibility_timeout", "max_messages"];

    private sealed partial class Reader
    {
        /// <summary><c>events: { sqs: { queue_url, region?, endpoint?, wait_seconds?, visibility_timeout?, max_messages? } }</c>.</summary>
        private EventSettings ReadEvents(YamlMappingNode root, MarkerSettings markers)
        {
            if (Get(root, "events") is not { } eventsNode)
            {
                return EventSettings.None;
            }

            if (eventsNode is not YamlMappingNode events)
            {
                Error(eventsNode, "'events' must be a mapping (sqs: { queue_url: … })");
                return EventSettings.None;
            }

            CheckKeys(events, EventKeys, "events");
            var result = EventSettings.None;
            if (Get(events, "sqs") is { } sqsNode)
            {
                if (markers is not MarkerSettings.S3)
                {
                    Error(sqsNode, "events.sqs needs the markers in a bucket (markers: { s3: … }): its messages are S3 notifications of objects in the bucket; a marker folder is watched directly");
                }

                result = result with { Sqs = ReadSqs(sqsNode) };
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
