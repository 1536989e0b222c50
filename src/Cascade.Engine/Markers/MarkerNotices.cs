using System.Threading.Channels;

namespace Cascade.Engine.Markers;

/// <summary>
/// Notices of new markers that come from outside the store (S3 event notifications through the HTTP
/// API, SNS or an SQS queue): a notification source posts each created key's path relative to the
/// store (<see cref="S3.S3MarkerStore.RelativePath(string, string)"/>) and the store's <see cref="IMarkerStore.WatchAsync"/>
/// hands them to the scheduler, exactly as the folder watcher hands on its file-system events.
/// <para>Posting never blocks and never fails the poster: the scheduler reads what is posted when it
/// can. A notice is only a hint (guarantee 8): the scheduler reads the marker itself, ignores one it
/// already knows, and the periodic listing finds every marker whose notice was lost. Sources may post
/// a key twice; de-duplication of the deliveries themselves belongs to the source.</para>
/// </summary>
public sealed class MarkerNotices
{
    private readonly Channel<MarkerEntry> _channel = Channel.CreateUnbounded<MarkerEntry>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>A created marker: its path relative to the store's root (with '/'), and its ETag when the notification carries one.</summary>
    public void Post(string relativePath, string? etag = null, long? size = null)
    {
        if (relativePath.Length > 0)
        {
            _channel.Writer.TryWrite(new MarkerEntry(relativePath, size) { ETag = etag });
        }
    }

    /// <summary>Notices were lost (a queue was purged, a source restarted): the store is listed again at once.</summary>
    public void PostRescan() => _channel.Writer.TryWrite(MarkerEntry.Rescan);

    /// <summary>Every notice posted, until cancelled.</summary>
    public IAsyncEnumerable<MarkerEntry> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);
}
