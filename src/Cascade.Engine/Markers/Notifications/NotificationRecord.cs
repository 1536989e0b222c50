namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// One created object a notification names: its bucket, its key (URL-decoded), and what tells one
/// delivery of it from another — the ETag (the object's content) and the S3 sequencer (the event;
/// duplicates of one event carry the same one, a later event on the key a greater one).
/// </summary>
public sealed record NotificationRecord(string Bucket, string Key, string? ETag, string? Sequencer, long? Size, string EventName);
