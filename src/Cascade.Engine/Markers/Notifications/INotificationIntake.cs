namespace Cascade.Engine.Markers.Notifications;

/// <summary>Where a notification came in: the HTTP endpoint (<c>POST /api/events/s3</c>) or an SQS queue.</summary>
public enum NotificationChannel
{
    Http,
    Sqs,
}

/// <summary>Why a notification as a whole was refused, for the sender's answer (HTTP 400, 401, 403, 404).</summary>
public enum IntakeRefusal
{
    /// <summary>Not a notification Cascade takes: not JSON, a wrong shape, too big.</summary>
    Invalid,

    /// <summary>Not signed (a plain S3 or EventBridge event, or SNS with signature checks off) and the sender is not authenticated otherwise (the bearer token).</summary>
    Unauthenticated,

    /// <summary>A bad SNS signature, a topic not listed, a certificate or SubscribeURL on a host that is not SNS's.</summary>
    Forbidden,

    /// <summary>The pipeline takes no notifications (its markers are in a folder).</summary>
    NotConfigured,
}

/// <summary>
/// What became of one notification: how many of its records were queued for the scheduler, how many
/// were deliveries already seen (same key and ETag or sequencer), and how many were ignored (test
/// events, keys outside the layout). <see cref="Refusal"/> is set, and nothing was queued, when the
/// notification as a whole is refused (not JSON, a bad SNS signature, an unlisted topic).
/// </summary>
public sealed record IntakeResult(int Queued, int Duplicates, int Ignored, string? Refusal = null)
{
    public bool Refused => Refusal is not null;

    /// <summary>Why it was refused, when it was.</summary>
    public IntakeRefusal RefusalKind { get; init; }

    /// <summary>The request row that holds what was queued (one per notification), or null when nothing was.</summary>
    public long? Request { get; init; }

    /// <summary>Why records were ignored (at most a few), for the answer.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>The topic whose SNS subscription was confirmed, when the notification was a confirmation.</summary>
    public string? Confirmed { get; init; }
}

/// <summary>
/// Takes S3 event notifications as the sources receive them (an S3 event, one inside an SNS
/// <c>Notification</c>, an EventBridge "Object Created" event), de-duplicates them and queues each
/// new marker durably for the scheduler. <see cref="AcceptAsync(string, NotificationChannel, CancellationToken)"/>
/// returns once what it queued is durable, so the HTTP endpoint may answer 2xx and an SQS consumer may
/// delete the message; it throws only on a transient failure (the state store busy or full, an SNS
/// certificate that cannot be fetched now), when the sender should deliver again.
/// </summary>
public interface INotificationIntake
{
    /// <summary>
    /// As the other overload, the sender counted as authenticated for an SQS queue (its IAM policy
    /// decides who may send) and not for HTTP (only a signed SNS message is then accepted).
    /// </summary>
    ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, CancellationToken cancellationToken) =>
        AcceptAsync(body, channel, senderAuthenticated: channel == NotificationChannel.Sqs, cancellationToken);

    /// <summary>
    /// <paramref name="senderAuthenticated"/>: whether the sender is known by other means than an SNS
    /// signature (the bearer token, or no token configured on a loopback server; an SQS queue). An
    /// unsigned body (a plain S3 or EventBridge event, or SNS with signature checks turned off) is
    /// accepted only then; a signed SNS message always is, once its signature and topic are checked.
    /// </summary>
    ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, bool senderAuthenticated, CancellationToken cancellationToken);
}
