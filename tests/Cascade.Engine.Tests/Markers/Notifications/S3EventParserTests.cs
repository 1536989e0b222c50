using Cascade.Engine.Markers.Notifications;
using CsCheck;
using static Cascade.Engine.Tests.Markers.Notifications.Notifications;

namespace Cascade.Engine.Tests.Markers.Notifications;

/// <summary>The pure parser: S3's, SNS's and EventBridge's shapes in, created objects (keys decoded) or reasons out; hostile bodies refused, never thrown.</summary>
public sealed class S3EventParserTests
{
    private static ParsedNotification.Events Events(string body) => Assert.IsType<ParsedNotification.Events>(S3EventParser.Parse(body));

    private static string Refusal(string body) => Assert.IsType<ParsedNotification.Refused>(S3EventParser.Parse(body)).Reason;

    [Fact]
    public void An_S3_event_gives_its_created_objects_with_decoded_keys_etags_and_upper_case_sequencers()
    {
        var events = Events(S3(new Obj("done/player_entry__20190312.done"), new Obj("done/a+b%2Bc%20d__20190312.done", "\"abc\"", "00617f08299329d189", Size: 12)));

        Assert.Null(events.Envelope);
        Assert.Empty(events.Ignored);
        Assert.Equal(
            [
                new NotificationRecord("markers", "done/player_entry__20190312.done", "d41d8cd98f00b204e9800998ecf8427e", "0055AED6DCD90281E5", 0, "ObjectCreated:Put"),
                new NotificationRecord("markers", "done/a b+c d__20190312.done", "abc", "00617F08299329D189", 12, "ObjectCreated:Put"),
            ],
            events.Records);
    }

    [Fact]
    public void Removals_and_other_event_types_are_ignored_with_a_reason()
    {
        var events = Events(S3(new Obj("done/a__20190312.done", EventName: "ObjectRemoved:Delete"), new Obj("done/b__20190312.done", EventName: "ObjectCreated:Copy")));

        Assert.Equal("done/b__20190312.done", Assert.Single(events.Records).Key);
        Assert.Equal("Records[0]: ObjectRemoved:Delete is not a created object", Assert.Single(events.Ignored));
    }

    [Fact]
    public void The_S3_test_event_is_ignored()
    {
        var events = Events(TestEvent);
        Assert.Empty(events.Records);
        Assert.Contains("s3:TestEvent", Assert.Single(events.Ignored), StringComparison.Ordinal);

        // Inside SNS too.
        var wrapped = Events(Sns(TestEvent));
        Assert.Empty(wrapped.Records);
        Assert.NotNull(wrapped.Envelope);
    }

    [Fact]
    public void An_S3_event_inside_an_SNS_notification_keeps_the_envelope_for_its_signature()
    {
        var events = Events(Sns(S3(new Obj("done/a__20190312.done"))));

        Assert.Equal("done/a__20190312.done", Assert.Single(events.Records).Key);
        var envelope = events.Envelope!;
        Assert.Equal("arn:aws:sns:us-east-1:123456789012:done", envelope.TopicArn);
        Assert.Equal("Amazon S3 Notification", envelope.Subject);
        Assert.Equal("1", envelope.SignatureVersion);
    }

    [Fact]
    public void The_string_SNS_signs_lists_the_type_s_fields_in_order_with_subject_only_when_present()
    {
        var notification = Events(Sns("{\"Records\":[]}")).Envelope!;
        Assert.Equal(
            "Message\n{\"Records\":[]}\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nAmazon S3 Notification\nTimestamp\n2019-03-13T02:00:01.000Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:done\nType\nNotification\n",
            notification.StringToSign());
        Assert.DoesNotContain("Subject", (notification with { Subject = null }).StringToSign(), StringComparison.Ordinal);

        var confirmation = Assert.IsType<ParsedNotification.Subscription>(S3EventParser.Parse(Sns("You have chosen to subscribe", type: "SubscriptionConfirmation", subscribeUrl: "https://sns.us-east-1.amazonaws.com/?x=1"))).Envelope!;
        Assert.Equal(
            "Message\nYou have chosen to subscribe\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?x=1\nTimestamp\n2019-03-13T02:00:01.000Z\nToken\n2336412f37fb687f5d51e6e2425dacbba\nTopicArn\narn:aws:sns:us-east-1:123456789012:done\nType\nSubscriptionConfirmation\n",
            confirmation.StringToSign());
    }

    [Fact]
    public void An_EventBridge_object_created_event_gives_its_object_and_other_types_are_ignored()
    {
        var events = Events(EventBridge(new Obj("done/a__20190312.done", "b1946ac92492d2347c6235b4d2611184", "617F08299329D189", Size: 5)));
        Assert.Equal(new NotificationRecord("markers", "done/a__20190312.done", "b1946ac92492d2347c6235b4d2611184", "617F08299329D189", 5, "Object Created:PutObject"), Assert.Single(events.Records));

        var deleted = Events(EventBridge(new Obj("done/a__20190312.done"), detailType: "Object Deleted"));
        Assert.Empty(deleted.Records);
        Assert.Contains("Object Deleted", Assert.Single(deleted.Ignored), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("{\"Records\": [", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object, not a list")]
    [InlineData("{\"hello\": 1}", "not an S3 event notification")]
    [InlineData("{\"Records\": {}}", "Records must be a list, not an object")]
    [InlineData("{\"Records\": [1]}", "Records[0] must be an object, not a number")]
    [InlineData("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\"}]}", "Records[0] has no s3")]
    [InlineData("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": 5}}}]}", "Records[0].s3.object.key must be a string, not a number")]
    [InlineData("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": \"k\", \"size\": -1}}}]}", "size must be a whole number")]
    [InlineData("{\"Records\": [{\"eventName\": 7}]}", "Records[0].eventName must be a string, not a number")]
    [InlineData("{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"MessageId\": \"m\", \"Timestamp\": \"t\", \"Message\": 5}", "the SNS message's Message must be a string, not a number")]
    [InlineData("{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"MessageId\": \"m\", \"Timestamp\": \"t\"}", "the SNS message has no Message")]
    [InlineData("{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"MessageId\": \"m\", \"Timestamp\": \"t\", \"Message\": \"not json\"}", "the SNS message's Message is not JSON")]
    [InlineData("{\"Type\": \"Surprise\", \"TopicArn\": \"t\", \"MessageId\": \"m\", \"Timestamp\": \"t\", \"Message\": \"{}\"}", "SNS message type 'Surprise' is not")]
    [InlineData("{\"detail-type\": 1, \"source\": \"aws.s3\"}", "detail-type and source must be strings")]
    [InlineData("{\"detail-type\": \"Object Created\", \"source\": \"aws.s3\", \"detail\": []}", "the event.detail must be an object, not a list")]
    public void A_body_of_the_wrong_shape_is_refused_with_a_reason(string body, string reason)
    {
        Assert.Contains(reason, Refusal(body), StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_bodies_are_refused_not_thrown()
    {
        Assert.Contains("not valid JSON", Refusal(new string('[', 10_000) + new string(']', 10_000)), StringComparison.Ordinal);
        Assert.Contains("over 1024 KiB", Refusal("{\"x\": \"" + new string('a', S3EventParser.MaxChars) + "\"}"), StringComparison.Ordinal);
        var many = "{\"Records\": [" + string.Join(",", Enumerable.Repeat("{}", S3EventParser.MaxRecords + 1)) + "]}";
        Assert.Contains("at most 1000", Refusal(many), StringComparison.Ordinal);

        // An SNS Message that nests deep inside its string is refused as well.
        Assert.Contains("is not JSON", Refusal(Sns(new string('[', 100) + new string(']', 100))), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_with_a_control_character_is_ignored_and_reasons_never_carry_one()
    {
        var events = Events(S3(new Obj("done/a%0A__20190312.done"), new Obj("k", EventName: "ObjectRemoved:\nx")));
        Assert.Empty(events.Records);
        Assert.All(events.Ignored, r => Assert.DoesNotContain('\n', r));
    }

    [Fact]
    public void Random_bytes_and_mutated_notifications_give_events_or_a_refusal_never_an_exception()
    {
        var bodies = new[] { S3(new Obj("done/a__20190312.done")), Sns(S3(new Obj("done/a__20190312.done"))), EventBridge(new Obj("done/a__20190312.done")), TestEvent };
        Gen.Select(Gen.Int[0, bodies.Length - 1], Gen.Int[0, 2000], Gen.String[0, 4], Gen.Int[0, 8]).Sample(
            t =>
            {
                var (which, at, insert, cut) = t;
                var body = bodies[which];
                var pos = Math.Min(at, body.Length);
                var mutated = body.Remove(pos, Math.Min(cut, body.Length - pos)).Insert(pos, insert);
                Assert.True(S3EventParser.Parse(mutated) is ParsedNotification.Events or ParsedNotification.Refused or ParsedNotification.Subscription);
            },
            iter: 3000);
    }
}
