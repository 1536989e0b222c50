namespace Cascade.Engine.Markers.Notifications;

/// <summary>What <see cref="S3EventParser"/> makes of a body: a closed set.</summary>
public abstract record ParsedNotification
{
    private ParsedNotification()
    {
    }

    /// <summary>The SNS envelope the body came in, when it came in one.</summary>
    public SnsMessage? Envelope { get; init; }

    /// <summary>
    /// An S3 event (plain, inside an SNS <c>Notification</c>, or from EventBridge): the created
    /// objects it names, and why each other record was ignored (a test event, a removal…).
    /// </summary>
    public sealed record Events(IReadOnlyList<NotificationRecord> Records, IReadOnlyList<string> Ignored) : ParsedNotification;

    /// <summary>An SNS <c>SubscriptionConfirmation</c> or <c>UnsubscribeConfirmation</c> (in <see cref="ParsedNotification.Envelope"/>).</summary>
    public sealed record Subscription : ParsedNotification;

    /// <summary>Not a notification Cascade takes (not JSON, a wrong shape, too big or deep): nothing of it is used.</summary>
    public sealed record Refused(string Reason) : ParsedNotification;
}
