using System.Text;

namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// An SNS message as SNS posts it to an HTTP(S) subscription: a <c>Notification</c> (its
/// <see cref="Message"/> is the S3 event as text), a <c>SubscriptionConfirmation</c> or an
/// <c>UnsubscribeConfirmation</c>. The fields are kept as sent, so that the string SNS signed can
/// be rebuilt byte for byte (<see cref="StringToSign"/>).
/// </summary>
public sealed record SnsMessage
{
    public const string NotificationType = "Notification";
    public const string SubscriptionConfirmationType = "SubscriptionConfirmation";
    public const string UnsubscribeConfirmationType = "UnsubscribeConfirmation";

    public required string Type { get; init; }

    public required string MessageId { get; init; }

    public required string TopicArn { get; init; }

    public required string Message { get; init; }

    public required string Timestamp { get; init; }

    public string? Subject { get; init; }

    public string? Token { get; init; }

    public string? SubscribeUrl { get; init; }

    public string? SignatureVersion { get; init; }

    public string? Signature { get; init; }

    public string? SigningCertUrl { get; init; }

    public bool IsNotification => Type == NotificationType;

    /// <summary>
    /// The canonical string SNS signs: for each field of the message type in byte order of the names,
    /// the name, a line feed, the value and a line feed (<c>Subject</c> only when the message has one).
    /// </summary>
    public string StringToSign()
    {
        var text = new StringBuilder();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                text.Append(name).Append('\n').Append(value).Append('\n');
            }
        }

        Add("Message", Message);
        Add("MessageId", MessageId);
        if (IsNotification)
        {
            Add("Subject", Subject);
        }
        else
        {
            Add("SubscribeURL", SubscribeUrl ?? string.Empty);
        }

        Add("Timestamp", Timestamp);
        if (!IsNotification)
        {
            Add("Token", Token ?? string.Empty);
        }

        Add("TopicArn", TopicArn);
        Add("Type", Type);
        return text.ToString();
    }
}
