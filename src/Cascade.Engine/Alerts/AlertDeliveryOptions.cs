namespace Cascade.Engine.Alerts;

/// <summary>How hard the dispatcher tries: a receiver that is down or slow costs at most (Retries + 1) × AttemptTimeout plus backoff, in the background.</summary>
public sealed record AlertDeliveryOptions
{
    public int Retries { get; init; } = 3;
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int QueueCapacity { get; init; } = 1000;
}
