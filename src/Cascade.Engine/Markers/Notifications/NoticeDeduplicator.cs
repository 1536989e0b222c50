namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// Remembers, per marker, the newest delivery queued for it, so that the at-least-once deliveries of
/// S3, SNS and SQS queue each event once. A delivery is named by its S3 sequencer when it has one
/// (every S3 and EventBridge event does: duplicates of one event share it, a later event on the key
/// has a greater one), else by its ETag. With a sequencer, the same one as the newest remembered is
/// a duplicate, an older one is stale (the object has been written again since), a greater one is
/// new — so a replayed run's new marker is queued even when its body, and so its ETag, equals the
/// old one's. Without a sequencer on either side, the same ETag is a duplicate. Anything else (no
/// sequencer nor ETag, or a sequencer on one side only) is new.
/// <para>Bounded: at most <see cref="Capacity"/> markers are remembered, in two generations (the
/// older is dropped when the newer fills), so the least recently notified are forgotten first. What
/// is forgotten — and everything, across a restart — is queued again when delivered again; the
/// scheduler then ignores a marker it has already applied (the last line of defence). Not thread-safe:
/// the intake calls it under its lock.</para>
/// </summary>
public sealed class NoticeDeduplicator(int capacity = NoticeDeduplicator.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private Dictionary<string, Seen> _current = new(StringComparer.Ordinal);
    private Dictionary<string, Seen> _previous = new(StringComparer.Ordinal);

    public int Capacity { get; } = Math.Max(2, capacity);

    /// <summary>How many markers are remembered now (at most <see cref="Capacity"/>).</summary>
    public int Count => _current.Count + _previous.Count;

    /// <summary>Whether a delivery of <paramref name="marker"/> is new, a duplicate, or stale (older than one already queued).</summary>
    public NoticeVerdict Judge(string marker, string? etag, string? sequencer)
    {
        if (Find(marker) is not { } seen || (sequencer is null && etag is null))
        {
            return NoticeVerdict.New;
        }

        if (sequencer is not null && seen.Sequencer is not null)
        {
            var order = CompareSequencers(sequencer, seen.Sequencer);
            return order > 0 ? NoticeVerdict.New : order == 0 ? NoticeVerdict.Duplicate : NoticeVerdict.Stale;
        }

        // One with a sequencer and one without cannot be told apart: new (the scheduler ignores it if it is not).
        return sequencer is null && seen.Sequencer is null && etag is not null && string.Equals(etag, seen.ETag, StringComparison.Ordinal)
            ? NoticeVerdict.Duplicate
            : NoticeVerdict.New;
    }

    /// <summary>Records a delivery as queued (call only once it is durable, so a failed queueing is not remembered).</summary>
    public void Remember(string marker, string? etag, string? sequencer)
    {
        if (sequencer is null && etag is null)
        {
            return;
        }

        var seen = Find(marker);
        var next = seen is { Sequencer: { } old } && sequencer is not null && CompareSequencers(sequencer, old) < 0
            ? seen
            : new Seen(etag, sequencer);
        _previous.Remove(marker);
        _current[marker] = next;
        if (_current.Count >= Capacity / 2)
        {
            _previous = _current;
            _current = new Dictionary<string, Seen>(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// S3's rule for the sequencers of one key: the greater hexadecimal value is the later event;
    /// values of different lengths compare after right-padding the shorter with zeros.
    /// </summary>
    public static int CompareSequencers(string a, string b)
    {
        var length = Math.Max(a.Length, b.Length);
        return string.CompareOrdinal(a.ToUpperInvariant().PadRight(length, '0'), b.ToUpperInvariant().PadRight(length, '0'));
    }

    private Seen? Find(string marker) =>
        _current.TryGetValue(marker, out var seen) || _previous.TryGetValue(marker, out seen) ? seen : null;

    private sealed record Seen(string? ETag, string? Sequencer);
}

/// <summary>What <see cref="NoticeDeduplicator.Judge"/> says of a delivery.</summary>
public enum NoticeVerdict
{
    New,
    Duplicate,
    Stale,
}
