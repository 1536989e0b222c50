using Cascade.Core.Markers;

namespace Cascade.Engine.Markers;

/// <summary>A marker read from the store, with the time it was last written.</summary>
public sealed record StoredMarker(MarkerBody Body, DateTimeOffset WrittenAt)
{
    /// <summary>
    /// Set when the entry has a marker's name but is not a marker: not a regular file (a symbolic
    /// link, folder, FIFO, socket or device) or not readable. It does not count as done; the reason
    /// is for a warning.
    /// </summary>
    public string? NotAMarker { get; init; }

    /// <summary>The object's entity tag, when the store has one (S3).</summary>
    public string? ETag { get; init; }

    public static StoredMarker Refused(string reason) => new(MarkerBody.Empty, DateTimeOffset.MinValue) { NotAMarker = reason };
}
