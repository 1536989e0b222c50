using Cascade.Core.Pipelines;
using Cascade.Engine.Alerts.Slack;
using Cascade.Engine.Alerts.Webhook;

namespace Cascade.Engine.Alerts;

/// <summary>Builds the sinks of a pipeline's <c>alerts</c>, expanding <c>${ENV}</c> (errors name the variable, never its value).</summary>
public static class AlertSinks
{
    public static IReadOnlyList<IAlertSink> Create(Pipeline pipeline, HttpClient http, Func<string, string?> environment)
    {
        var name = Path.GetFileName(Path.GetDirectoryName(pipeline.Definition.SourcePath)) ?? "cascade";
        var sinks = new List<IAlertSink>();
        foreach (var target in pipeline.Definition.Alerts)
        {
            if (!AlertUrl.TryExpand(target.Url, environment, out var uri, out var problem))
            {
                throw new InvalidOperationException($"{pipeline.Definition.SourcePath}:{target.Location}: alert {target.Kind}: {problem}");
            }

            sinks.Add(target.Kind == "slack" ? new SlackAlertSink(http, uri!, name) : new WebhookAlertSink(http, uri!, name));
        }

        return sinks;
    }
}
