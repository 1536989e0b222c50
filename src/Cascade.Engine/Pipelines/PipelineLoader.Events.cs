using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private static readonly string[] EventKeys = ["sns"];
    private static readonly string[] SnsKeys = ["topics", "verify_signatures", "certificate_hosts"];

    [GeneratedRegex("^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\\.fifo)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicArn();

    [GeneratedRegex("^(?:\\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\\.(?:\\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))*$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPattern();

    private sealed partial class Reader
    {
        /// <summary>
        /// <c>events: { sns: { topics: [arn…], verify_signatures: true, certificate_hosts: [host…] } }</c>;
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
            return new EventSettings { Sns = Get(events, "sns") is { } sns ? ReadSns(sns) : null };
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
    }
}
