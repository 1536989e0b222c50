namespace Cascade.Core.Pipelines;

/// <summary>
/// <c>events.sqs</c>: the queue the SQS consumer long-polls. Credentials always come from the
/// standard AWS chain.
/// </summary>
/// <param name="QueueUrl">The queue's URL, as written.</param>
/// <param name="Region">The region, as written or as the AWS queue URL names it; null: the standard AWS chain's.</param>
/// <param name="Endpoint">The service URL the client talks to (an SQS-compatible server); null for AWS.</param>
/// <param name="VisibilityTimeout">How long a received message stays hidden from other receives; null: the queue's own.</param>
/// <param name="WaitSeconds">The long poll: how long one ReceiveMessage waits for a message, 1 to 20 seconds.</param>
/// <param name="MaxMessages">At most this many messages per receive, 1 to 10.</param>
public sealed record SqsSettings(string QueueUrl, string? Region, string? Endpoint, int WaitSeconds, TimeSpan? VisibilityTimeout, int MaxMessages)
{
    public const int DefaultWaitSeconds = 20;
    public const int DefaultMaxMessages = 10;

    /// <summary>SQS's own limit for a message's visibility timeout (12 hours).</summary>
    public static readonly TimeSpan MaxVisibilityTimeout = TimeSpan.FromHours(12);

    /// <summary>Where <c>events.sqs</c> is in the pipeline file.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.None;
}
