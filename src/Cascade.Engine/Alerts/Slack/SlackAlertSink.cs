using System.Text;
using System.Text.Json.Serialization;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Alerts.Slack;

/// <summary>Posts a readable message to a Slack incoming webhook.</summary>
public sealed class SlackAlertSink(HttpClient http, Uri url, string pipeline) : IAlertSink
{
    public string Describe => "slack " + AlertUrl.Redact(url);

    public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var content = BufferedJson.Create(new SlackMessage(Text(alert, pipeline)), EngineJson.Default.SlackMessage);
        using var response = await http.PostAsync(url, content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The message in Slack's mrkdwn; values are escaped so they cannot form links or mentions.</summary>
    public static string Text(Alert alert, string pipeline)
    {
        var icon = alert.Kind == AlertKind.DeadlineRecovered ? ":large_green_circle:" : ":red_circle:";
        var sb = new StringBuilder();
        sb.Append(icon).Append(" *").Append(Escape(AlertText.Headline(alert))).Append("* (").Append(Escape(pipeline)).Append(")\n");
        sb.Append(Escape(alert.Summary)).Append('\n');
        if (alert.MissingInputs.Count > 0)
        {
            sb.Append("*Missing inputs:* ").Append(Escape(AlertText.List(alert.MissingInputs))).Append('\n');
        }

        if (alert.BrokenDownstream.Count > 0)
        {
            sb.Append("*Broken downstream:* ").Append(Escape(AlertText.List(alert.BrokenDownstream))).Append(" (upstream_failed until replayed)\n");
        }

        if (alert.ExitCode is { } code)
        {
            sb.Append("*Attempt:* ").Append(alert.Attempt).Append(", exit code ").Append(code).Append('\n');
        }

        sb.Append("Run `").Append(Escape(alert.WhyCommand)).Append('`');
        return sb.ToString();
    }

    private static string Escape(string s) =>
        s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

public sealed record SlackMessage([property: JsonPropertyName("text")] string Text);
