using System.Text.Json.Serialization;
using Cascade.Engine.Alerts.Slack;
using Cascade.Engine.Alerts.Webhook;

namespace Cascade.Engine;

/// <summary>
/// Every JSON the engine serializes, source-generated (Native AOT is the shipped form; reflection
/// is off there): state rows (params, warnings), requests, <c>CASCADE_PARAMS</c> and the alert
/// bodies. Default options, so the output is what <c>JsonSerializer</c>'s defaults wrote before.
/// </summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(SlackMessage))]
[JsonSerializable(typeof(WebhookDocument))]
internal sealed partial class EngineJson : JsonSerializerContext;
