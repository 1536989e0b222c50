using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// Reads a notification body into the created objects it names (pure: no I/O, no clock). Takes an
/// S3 event notification as S3 sends it (<c>Records</c>), the same inside an SNS message (SNS posts
/// it to HTTP(S) subscriptions, and puts it in SQS unless raw delivery is on), and EventBridge's
/// "Object Created" event. Keys are URL-decoded (S3 encodes them: <c>+</c> is a space);
/// <c>s3:TestEvent</c>, removals and other event types are ignored with a reason. Anything else —
/// not JSON, nested deeper than <see cref="MaxDepth"/>, longer than <see cref="MaxChars"/>, a field
/// of the wrong type — is refused with a reason, never an exception.
/// </summary>
public static class S3EventParser
{
    /// <summary>The longest body read (an SNS message is at most 256 KiB; its envelope escapes it).</summary>
    public const int MaxChars = 1024 * 1024;

    /// <summary>How deep JSON may nest; S3's own events are 5 deep.</summary>
    public const int MaxDepth = 16;

    /// <summary>The most records one notification may hold (S3 sends one).</summary>
    public const int MaxRecords = 1000;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    private static readonly string[] SnsFields = ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "SubscribeURL", "UnsubscribeURL", "Token"];

    public static ParsedNotification Parse(string body)
    {
        if (body.Length > MaxChars)
        {
            return Refuse(string.Create(CultureInfo.InvariantCulture, $"the body is over {MaxChars / 1024} KiB, the most accepted"));
        }

        try
        {
            using var document = JsonDocument.Parse(body, Options);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Refuse($"the body must be a JSON object, not {Kind(root.ValueKind)}");
            }

            return root.TryGetProperty("Type", out _) && root.TryGetProperty("TopicArn", out _) ? ParseSns(root) : ParseEvent(root);
        }
        catch (JsonException e)
        {
            return Refuse($"the body is not valid JSON: {Shorten(e.Message)}");
        }
        catch (Shape e)
        {
            return Refuse(e.Message);
        }
    }

    private static ParsedNotification ParseSns(JsonElement root)
    {
        foreach (var name in SnsFields)
        {
            if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.String)
            {
                throw new Shape($"the SNS message's {name} must be a string, not {Kind(v.ValueKind)}");
            }
        }

        string? Text(string name) => root.TryGetProperty(name, out var v) ? v.GetString() : null;
        string Required(string name) => Text(name) ?? throw new Shape($"the SNS message has no {name}");
        var message = new SnsMessage
        {
            Type = Required("Type"),
            MessageId = Required("MessageId"),
            TopicArn = Required("TopicArn"),
            Message = Required("Message"),
            Timestamp = Required("Timestamp"),
            Subject = Text("Subject"),
            Token = Text("Token"),
            SubscribeUrl = Text("SubscribeURL"),
            SignatureVersion = Text("SignatureVersion"),
            Signature = Text("Signature"),
            SigningCertUrl = Text("SigningCertURL"),
        };

        switch (message.Type)
        {
            case SnsMessage.NotificationType:
                break;
            case SnsMessage.SubscriptionConfirmationType or SnsMessage.UnsubscribeConfirmationType:
                return new ParsedNotification.Subscription { Envelope = message };
            default:
                return Refuse($"SNS message type '{Shown(message.Type)}' is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation");
        }

        ParsedNotification inner;
        try
        {
            using var document = JsonDocument.Parse(message.Message, Options);
            inner = document.RootElement.ValueKind == JsonValueKind.Object
                ? ParseEvent(document.RootElement)
                : Refuse($"the SNS message's Message must be a JSON object (an S3 event), not {Kind(document.RootElement.ValueKind)}");
        }
        catch (JsonException e)
        {
            inner = Refuse($"the SNS message's Message is not JSON (an S3 event): {Shorten(e.Message)}");
        }

        return inner with { Envelope = message };
    }

    private static ParsedNotification ParseEvent(JsonElement root)
    {
        if (root.TryGetProperty("Records", out var records))
        {
            return ParseRecords(records);
        }

        if (root.TryGetProperty("Event", out var test) && test.ValueKind == JsonValueKind.String && test.GetString() == "s3:TestEvent")
        {
            return new ParsedNotification.Events([], ["s3:TestEvent (S3 sends it when the notification is set up)"]);
        }

        if (root.TryGetProperty("detail-type", out var detailType) && root.TryGetProperty("source", out var source))
        {
            return ParseEventBridge(root, detailType, source);
        }

        return Refuse("not an S3 event notification: no Records (S3), Type and TopicArn (SNS) or detail-type and source (EventBridge)");
    }

    private static ParsedNotification ParseRecords(JsonElement records)
    {
        if (records.ValueKind != JsonValueKind.Array)
        {
            throw new Shape($"Records must be a list, not {Kind(records.ValueKind)}");
        }

        if (records.GetArrayLength() > MaxRecords)
        {
            throw new Shape(string.Create(CultureInfo.InvariantCulture, $"Records holds {records.GetArrayLength()} records; at most {MaxRecords} are accepted"));
        }

        var created = new List<NotificationRecord>();
        var ignored = new List<string>();
        var i = 0;
        foreach (var record in records.EnumerateArray())
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"Records[{i++}]");
            if (record.ValueKind != JsonValueKind.Object)
            {
                throw new Shape($"{at} must be an object, not {Kind(record.ValueKind)}");
            }

            var eventSource = OptionalString(record, "eventSource", at);
            if (eventSource is not null && eventSource != "aws:s3")
            {
                ignored.Add($"{at}: eventSource '{Shown(eventSource)}' is not aws:s3");
                continue;
            }

            var eventName = OptionalString(record, "eventName", at) ?? throw new Shape($"{at} has no eventName");
            var s3 = Member(record, "s3", at);
            var bucket = RequiredString(Member(s3, "bucket", at + ".s3"), "name", at + ".s3.bucket");
            var obj = Member(s3, "object", at + ".s3");
            var key = RequiredString(obj, "key", at + ".s3.object");
            if (!eventName.StartsWith("ObjectCreated:", StringComparison.Ordinal))
            {
                ignored.Add($"{at}: {Shown(eventName)} is not a created object");
                continue;
            }

            Add(created, ignored, at, bucket, key, OptionalString(obj, "eTag", at + ".s3.object"), OptionalString(obj, "sequencer", at + ".s3.object"), Size(obj, at + ".s3.object"), eventName);
        }

        return new ParsedNotification.Events(created, ignored);
    }

    private static ParsedNotification ParseEventBridge(JsonElement root, JsonElement detailType, JsonElement source)
    {
        if (detailType.ValueKind != JsonValueKind.String || source.ValueKind != JsonValueKind.String)
        {
            throw new Shape("detail-type and source must be strings");
        }

        if (source.GetString() != "aws.s3")
        {
            return new ParsedNotification.Events([], [$"an EventBridge event from '{Shown(source.GetString()!)}', not aws.s3"]);
        }

        var type = detailType.GetString()!;
        if (type != "Object Created")
        {
            return new ParsedNotification.Events([], [$"EventBridge '{Shown(type)}' is not a created object"]);
        }

        var detail = Member(root, "detail", "the event");
        var bucket = RequiredString(Member(detail, "bucket", "detail"), "name", "detail.bucket");
        var obj = Member(detail, "object", "detail");
        var key = RequiredString(obj, "key", "detail.object");
        var reason = OptionalString(detail, "reason", "detail");
        var created = new List<NotificationRecord>();
        var ignored = new List<string>();
        Add(created, ignored, "detail", bucket, key, OptionalString(obj, "etag", "detail.object"), OptionalString(obj, "sequencer", "detail.object"), Size(obj, "detail.object"), reason is null ? "Object Created" : $"Object Created:{reason}");
        return new ParsedNotification.Events(created, ignored);
    }

    private static void Add(List<NotificationRecord> created, List<string> ignored, string at, string bucket, string encodedKey, string? etag, string? sequencer, long? size, string eventName)
    {
        var key = WebUtility.UrlDecode(encodedKey);
        if (key.Length == 0 || key.Any(char.IsControl))
        {
            ignored.Add($"{at}: the key is empty or holds a control character");
            return;
        }

        created.Add(new NotificationRecord(bucket, key, NormalETag(etag), NormalSequencer(sequencer), size, eventName));
    }

    /// <summary>S3 sends ETags without the quotes a listing shows; either way, without them.</summary>
    private static string? NormalETag(string? etag) => etag?.Trim('"') is { Length: > 0 and <= 128 } e ? e : null;

    /// <summary>Upper-case hexadecimal (EventBridge writes it in lower case), or none when it is not hexadecimal.</summary>
    private static string? NormalSequencer(string? sequencer) =>
        sequencer is { Length: > 0 and <= 64 } s && s.All(char.IsAsciiHexDigit) ? s.ToUpperInvariant() : null;

    private static JsonElement Member(JsonElement parent, string name, string at)
    {
        if (!parent.TryGetProperty(name, out var v))
        {
            throw new Shape($"{at} has no {name}");
        }

        return v.ValueKind == JsonValueKind.Object ? v : throw new Shape($"{at}.{name} must be an object, not {Kind(v.ValueKind)}");
    }

    private static string RequiredString(JsonElement parent, string name, string at) =>
        OptionalString(parent, name, at) ?? throw new Shape($"{at} has no {name}");

    private static string? OptionalString(JsonElement parent, string name, string at) => parent.TryGetProperty(name, out var v) switch
    {
        false => null,
        true when v.ValueKind == JsonValueKind.Null => null,
        true when v.ValueKind == JsonValueKind.String => v.GetString(),
        _ => throw new Shape($"{at}.{name} must be a string, not {Kind(v.ValueKind)}"),
    };

    private static long? Size(JsonElement obj, string at) => obj.TryGetProperty("size", out var v) switch
    {
        false => null,
        true when v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0 => n,
        true when v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
        true when v.ValueKind == JsonValueKind.Null => null,
        _ => throw new Shape($"{at}.size must be a whole number of bytes"),
    };

    private static ParsedNotification.Refused Refuse(string reason) => new(reason);

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>A value of the sender's as a reason may show it: at most 80 characters, no control characters (one log line).</summary>
    internal static string Shown(string value)
    {
        var cut = value.Length > 80 ? value[..80] + "…" : value;
        return cut.Any(char.IsControl) ? new string(cut.Select(c => char.IsControl(c) ? '?' : c).ToArray()) : cut;
    }

    private static string Shorten(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>A field of the wrong shape: the whole notification is refused with this reason.</summary>
    private sealed class Shape(string message) : Exception(message);
}
