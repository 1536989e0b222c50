namespace Cascade.Engine.Markers.Notifications;

/// <summary>Where a notification came in: the HTTP endpoint (<c>POST /api/events/s3</c>) or an SQS queue.</summary>
public enum NotificationChannel
{
    Http,
    Sqs,
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
}

/// <summary>
/// Takes S3 event notifications as the sources receive them (an S3 event, one inside an SNS
/// <c>Notification</c>, an EventBridge "Object Created" event), de-duplicates them and queues each
/// new marker durably for the scheduler. <see cref="AcceptAsync"/> returns once what it queued is
/// durable, so the HTTP endpoint may answer 2xx and an SQS consumer may delete the message; it throws
/// only on a transient failure (the state store busy or full), when the sender should deliver again.
/// </summary>
public interface INotificationIntake
{
    ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, CancellationToken cancellationToken);
}
