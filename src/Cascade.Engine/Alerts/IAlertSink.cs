using Cascade.Core.Scheduling;

namespace Cascade.Engine.Alerts;

/// <summary>Where alerts go. A sink sends one alert once; retries and timeouts are the dispatcher's.</summary>
public interface IAlertSink
{
    /// <summary>For logs: the kind and the redacted destination.</summary>
    string Describe { get; }

    ValueTask SendAsync(Alert alert, CancellationToken cancellationToken);
}
