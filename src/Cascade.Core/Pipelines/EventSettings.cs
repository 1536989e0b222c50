namespace Cascade.Core.Pipelines;

/// <summary>
/// The pipeline's push notifications (<c>events:</c>), as the pipeline file says, each optional.
/// Without them the marker store is only listed (every <c>rescan_interval</c>); with them a notified
/// marker counts at once (a notice is only a hint, guarantee 8). Only a bucket has notifications:
/// the loader refuses <c>events</c> over a folder.
/// </summary>
public sealed record EventSettings
{
    public static readonly EventSettings None = new();

    /// <summary>SNS HTTP(S) subscriptions to <c>POST /api/events/s3</c>; null accepts no SNS message.</summary>
    public SnsSettings? Sns { get; init; }

    /// <summary><c>events.sqs</c>: an SQS queue that S3 (directly, or through SNS) sends its notifications to.</summary>
    public SqsSettings? Sqs { get; init; }
}

/// <summary>
/// <c>events.sns</c>: the topics whose messages are accepted (and whose subscriptions are confirmed),
/// whether their signatures are verified (on unless turned off for local testing), and the hosts a
/// signing certificate (and a SubscribeURL) may come from.
/// </summary>
public sealed record SnsSettings(IReadOnlyList<string> Topics, bool VerifySignatures, IReadOnlyList<string> CertificateHosts)
{
    /// <summary>SNS's own hosts: <c>sns.REGION.amazonaws.com</c> and, in China, <c>….amazonaws.com.cn</c>; <c>*</c> stands for one DNS label.</summary>
    public static readonly IReadOnlyList<string> DefaultCertificateHosts = ["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"];
}
