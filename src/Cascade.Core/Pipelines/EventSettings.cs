namespace Cascade.Core.Pipelines;

/// <summary>
/// The pipeline's push notifications (<c>events:</c>), each optional: they only make a marker count
/// sooner, since the marker store is listed periodically anyway (guarantee 8).
/// </summary>
public sealed record EventSettings
{
    public static readonly EventSettings None = new();

    /// <summary><c>events.sqs</c>: an SQS queue that S3 (directly, or through SNS) sends its notifications to.</summary>
    public SqsSettings? Sqs { get; init; }
}
