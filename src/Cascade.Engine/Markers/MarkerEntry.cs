namespace Cascade.Engine.Markers;

/// <summary>
/// A marker-like object in the store: its path relative to the root (with '/') and its size when
/// known. From a watch, <see cref="Rescan"/> says notices were lost and the store must be rescanned.
/// </summary>
public readonly record struct MarkerEntry(string RelativePath, long? Size)
{
    public static readonly MarkerEntry Rescan = new(string.Empty, null);

    public bool IsRescan => RelativePath.Length == 0;

    /// <summary>When the marker was last written, when the listing says.</summary>
    public DateTimeOffset? WrittenAt { get; init; }

    /// <summary>The object's entity tag, when the store has one (S3): with the path, it names one version of the marker.</summary>
    public string? ETag { get; init; }
}
