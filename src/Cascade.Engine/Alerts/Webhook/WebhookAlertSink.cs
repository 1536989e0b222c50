using System.Text.Json.Serialization;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Alerts.Webhook;

/// <summary>
/// POSTs the documented alert document (<c>docs/alerts.md</c>) as JSON to any receiver.
/// </summary>
public sealed class WebhookAlertSink(HttpClient http, Uri url, string pipeline) : IAlertSink
{
    public string Describe => "webhook " + AlertUrl.Redact(url);

    public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var content = BufferedJson.Create(Document(alert, pipeline), EngineJson.Default.WebhookDocument);
        using var response = await http.PostAsync(url, content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public static WebhookDocument Document(Alert alert, string pipeline) => new(
        1,
        AlertText.EventName(alert.Kind),
        pipeline,
        alert.Key.Job,
        alert.Key.Partition.Key,
        alert.At.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        AlertText.Headline(alert),
        alert.Summary,
        alert.MissingInputs,
        alert.BrokenDownstream,
        alert.Attempt,
        alert.ExitCode,
        alert.WhyCommand);
}

/// <summary>The webhook body (version 1). Fields are only ever added.</summary>
public sealed record WebhookDocument(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("partition")] string Partition,
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("missing_inputs")] IReadOnlyList<string> MissingInputs,
    [property: JsonPropertyName("broken_downstream")] IReadOnlyList<string> BrokenDownstream,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("exit_code")] int? ExitCode,
    [property: JsonPropertyName("why")] string Why);
