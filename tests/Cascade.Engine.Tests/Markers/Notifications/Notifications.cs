using System.Text;
using System.Text.Json;

namespace Cascade.Engine.Tests.Markers.Notifications;

/// <summary>Notification bodies in the shapes S3, SNS and EventBridge send them (as AWS documents them), for the tests.</summary>
internal static class Notifications
{
    public sealed record Obj(string Key, string? ETag = "d41d8cd98f00b204e9800998ecf8427e", string? Sequencer = "0055AED6DCD90281E5", string Bucket = "markers", string EventName = "ObjectCreated:Put", long Size = 0);

    /// <summary>An S3 event notification with one record per object (keys as given: already URL-encoded).</summary>
    public static string S3(params Obj[] objects)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("Records");
            foreach (var o in objects)
            {
                w.WriteStartObject();
                w.WriteString("eventVersion", "2.1");
                w.WriteString("eventSource", "aws:s3");
                w.WriteString("awsRegion", "us-east-1");
                w.WriteString("eventTime", "2019-03-13T02:00:00.000Z");
                w.WriteString("eventName", o.EventName);
                w.WriteStartObject("userIdentity");
                w.WriteString("principalId", "AWS:AIDAEXAMPLE");
                w.WriteEndObject();
                w.WriteStartObject("s3");
                w.WriteString("s3SchemaVersion", "1.0");
                w.WriteString("configurationId", "cascade");
                w.WriteStartObject("bucket");
                w.WriteString("name", o.Bucket);
                w.WriteString("arn", "arn:aws:s3:::" + o.Bucket);
                w.WriteEndObject();
                w.WriteStartObject("object");
                w.WriteString("key", o.Key);
                w.WriteNumber("size", o.Size);
                if (o.ETag is not null)
                {
                    w.WriteString("eTag", o.ETag);
                }

                if (o.Sequencer is not null)
                {
                    w.WriteString("sequencer", o.Sequencer);
                }

                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public const string TestEvent = """{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2019-03-13T02:00:00.000Z","Bucket":"markers","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}""";

    /// <summary>EventBridge's "Object Created" event (its sequencer in lower case, as EventBridge writes it).</summary>
    public static string EventBridge(Obj o, string detailType = "Object Created")
    {
        var key = JsonSerializer.Serialize(o.Key, Cascade.Engine.EngineJson.Default.String);
        return "{\"version\":\"0\",\"id\":\"17793124-05d4-b198-2fde-7ededc63b103\",\"detail-type\":\"" + detailType + "\",\"source\":\"aws.s3\",\"account\":\"123456789012\","
            + "\"time\":\"2019-03-13T02:00:00Z\",\"region\":\"us-east-1\",\"resources\":[\"arn:aws:s3:::" + o.Bucket + "\"],"
            + "\"detail\":{\"version\":\"0\",\"bucket\":{\"name\":\"" + o.Bucket + "\"},\"object\":{\"key\":" + key + ",\"size\":" + o.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + ",\"etag\":\"" + o.ETag + "\",\"sequencer\":\"" + o.Sequencer?.ToLowerInvariant() + "\"},"
            + "\"request-id\":\"N4N7GDK58NMKJ12R\",\"requester\":\"123456789012\",\"source-ip-address\":\"1.2.3.4\",\"reason\":\"PutObject\"}}";
    }

    /// <summary>An SNS envelope around <paramref name="message"/>, unsigned (the SNS tests sign them).</summary>
    public static string Sns(string message, string topic = "arn:aws:sns:us-east-1:123456789012:done", string type = "Notification", string id = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", string? subscribeUrl = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("Type", type);
            w.WriteString("MessageId", id);
            if (type != "Notification")
            {
                w.WriteString("Token", "2336412f37fb687f5d51e6e2425dacbba");
                w.WriteString("SubscribeURL", subscribeUrl ?? "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=2336412f37fb687f5d51e6e2425dacbba");
            }

            w.WriteString("TopicArn", topic);
            if (type == "Notification")
            {
                w.WriteString("Subject", "Amazon S3 Notification");
            }

            w.WriteString("Message", message);
            w.WriteString("Timestamp", "2019-03-13T02:00:01.000Z");
            w.WriteString("SignatureVersion", "1");
            w.WriteString("Signature", "EXAMPLE");
            w.WriteString("SigningCertURL", "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem");
            if (type == "Notification")
            {
                w.WriteString("UnsubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":c9135db0");
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
