using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Markers.S3;

/// <summary>
/// Markers as objects in an S3-compatible bucket under a prefix (ADR 16). A PUT is atomic, so a
/// reader sees no marker or the whole body. Only keys ending in <c>.done</c> are markers; at most
/// 64 KiB + 1 byte of a body is read (a larger object is the usual warning, unread).
/// <para>A listing is the source of truth: the first <see cref="ScanAsync"/> lists the prefix in
/// full; later ones list only the partitions of the last <see cref="IncrementalWindow"/> (a
/// <c>StartAfter</c> on key order, one request per job when the layout puts the job first), and every
/// <see cref="FullListingEvery"/>-th is full again, so a lost notification costs one rescan interval for
/// a recent partition and at most that many intervals for an old one.</para>
/// <para>The store has no notifications of its own: <see cref="WatchAsync"/> yields what a
/// notification source (S3 events through the API, SNS, SQS) posts to <see cref="MarkerNotices"/>.</para>
/// </summary>
public sealed class S3MarkerStore : IMarkerStore, IDisposable
{
    private const int Limit = MarkerBody.MaxBytes + 1;

    private readonly IAmazonS3 _client;
    private readonly MarkerSettings.S3 _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _jobs;
    private int _rescans;

    /// <summary>
    /// A store over <paramref name="client"/>, which it owns. With the pipeline's <paramref name="jobs"/>,
    /// an incremental listing asks one job's keys at a time when the layout puts the job before the partition.
    /// </summary>
    public S3MarkerStore(IAmazonS3 client, MarkerSettings.S3 settings, MarkerLayout layout, TimeProvider time, ILogger logger, MarkerNotices? notices = null, IEnumerable<string>? jobs = null)
    {
        _client = client;
        _settings = settings;
        Layout = layout;
        _time = time;
        _logger = logger;
        Notices = notices ?? new MarkerNotices();
        _jobs = jobs?.Order(StringComparer.Ordinal).ToList() ?? [];
    }

    /// <summary>Superseded markers live under the prefix here, out of every listing.</summary>
    public const string SupersededFolder = ".superseded";

    public MarkerLayout Layout { get; }

    /// <summary>Where notification sources post the markers they hear of.</summary>
    public MarkerNotices Notices { get; }

    /// <summary>How far back (from today, UTC) an incremental listing reaches.</summary>
    public TimeSpan IncrementalWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Every this many rescans, one lists the whole prefix.</summary>
    public int FullListingEvery { get; init; } = 10;

    /// <summary>Set when the last rescan listed only the recent partitions (for tests).</summary>
    public bool LastScanWasIncremental { get; private set; }

    public string Bucket => _settings.Bucket;

    public string Prefix => _settings.Prefix;

    public string Locate(RunKey key) => $"s3://{_settings.Bucket}/{Key(key)}";

    private string Key(RunKey key) => _settings.Prefix + Layout.Format(key);

    /// <summary>
    /// The path relative to the store of an object a notification names, or null when the object is
    /// not one of this store's markers (another bucket, outside the prefix, superseded, not <c>.done</c>).
    /// The key must already be URL-decoded (S3 event notifications encode it).
    /// </summary>
    public string? RelativePath(string bucket, string key) => RelativePath(_settings, bucket, key);

    /// <summary>As <see cref="RelativePath(string, string)"/>, for the store <paramref name="settings"/> name (no client needed).</summary>
    public static string? RelativePath(MarkerSettings.S3 settings, string bucket, string key)
    {
        if (!string.Equals(bucket, settings.Bucket, StringComparison.Ordinal) || !key.StartsWith(settings.Prefix, StringComparison.Ordinal) || !key.EndsWith(".done", StringComparison.Ordinal))
        {
            return null;
        }

        var relative = key[settings.Prefix.Length..];
        return IsSuperseded(relative) ? null : relative;
    }

    private static bool IsSuperseded(string relative) => relative.StartsWith(SupersededFolder + "/", StringComparison.Ordinal);

    public async ValueTask WriteAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _settings.Bucket,
            Key = Key(key),
            ContentBody = body.ToJson(),
            ContentType = "application/json",
            // Signed whole: aws-chunked streaming is stored verbatim by some S3-compatible servers, and bodies are small.
            UseChunkEncoding = false,
        };
        try
        {
            await _client.PutObjectAsync(request, cancellationToken);
        }
        catch (Exception e) when (IsStoreError(e, cancellationToken))
        {
            throw new IOException($"cannot write marker {Locate(key)}: {Describe(e)}", e);
        }
    }

    public async ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken)
    {
        var stored = await ReadStoredAsync(key, cancellationToken);
        if (stored?.NotAMarker is { } reason)
        {
            // Not "no marker": a caller must not write an empty marker over one it could not read.
            throw new IOException($"marker {Locate(key)} {reason}");
        }

        return stored?.Body;
    }

    public async ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _settings.Bucket, Key = Key(key) }, cancellationToken);
            var writtenAt = response.LastModified is { } modified ? Utc(modified) : _time.GetUtcNow();
            var size = response.ContentLength;
            var body = size > MarkerBody.MaxBytes ? MarkerBody.TooLarge(size) : await ReadBodyAsync(response.ResponseStream, size, cancellationToken);
            return new StoredMarker(body, writtenAt) { ETag = response.ETag };
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (IsStoreError(e, cancellationToken))
        {
            return StoredMarker.Refused($"cannot be read ({Describe(e)})");
        }
    }

    /// <summary>At most <see cref="Limit"/> bytes, whatever the object's length said.</summary>
    private static async Task<MarkerBody> ReadBodyAsync(Stream stream, long size, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Clamp(size + 1, 1, Limit)];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length == Limit)
                {
                    return MarkerBody.TooLarge(Math.Max(size, total));
                }

                Array.Resize(ref buffer, Limit);
            }

            var n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (n == 0)
            {
                return MarkerBody.Parse(buffer.AsSpan(0, total));
            }

            total += n;
        }
    }

    /// <summary>Copies the marker under <c>.superseded/gN/</c> (server-side), then deletes it: the old body is kept for the record.</summary>
    public async ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken)
    {
        var source = Key(key);
        var target = $"{_settings.Prefix}{SupersededFolder}/g{generation}/{Layout.Format(key)}";
        try
        {
            await _client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = _settings.Bucket, SourceKey = source, DestinationBucket = _settings.Bucket, DestinationKey = target }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (Exception e) when (IsStoreError(e, cancellationToken))
        {
            throw new IOException($"cannot move marker {Locate(key)} aside: {Describe(e)}", e);
        }

        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _settings.Bucket, Key = source }, cancellationToken);
            return true;
        }
        catch (Exception e) when (IsStoreError(e, cancellationToken))
        {
            // The copy is kept; the marker left behind is older than the new generation and moved aside by the next rescan.
            throw new IOException($"marker {Locate(key)} was copied aside but not deleted: {Describe(e)}", e);
        }
    }

    /// <summary>The whole prefix, every page.</summary>
    public IAsyncEnumerable<MarkerEntry> ScanAsync(CancellationToken cancellationToken) => ListAsync(_settings.Prefix, null, cancellationToken);

    /// <summary>
    /// The partitions of the last <see cref="IncrementalWindow"/> (from today, UTC); every
    /// <see cref="FullListingEvery"/>-th call, the whole prefix.
    /// </summary>
    public async IAsyncEnumerable<MarkerEntry> RescanAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = ++_rescans % Math.Max(1, FullListingEvery) == 0;
        LastScanWasIncremental = !full;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug("rescan {N} of {Url}: {What}", _rescans, _settings.Url, full ? "the whole prefix" : "the recent partitions");
        }
        foreach (var (prefix, startAfter) in full ? [(_settings.Prefix, null)] : IncrementalRanges())
        {
            await foreach (var entry in ListAsync(prefix, startAfter, cancellationToken))
            {
                yield return entry;
            }
        }
    }

    /// <summary>
    /// The key ranges that hold the partitions of the incremental window, in key order: keys sort by
    /// partition after the literal text (and job) before <c>{partition}</c>, so each range starts
    /// after that text plus the window's first day (exclusive, and every key of that day is longer).
    /// </summary>
    private IEnumerable<(string Prefix, string? StartAfter)> IncrementalRanges()
    {
        var pattern = Layout.Pattern;
        var at = pattern.IndexOf("{partition}", StringComparison.Ordinal);
        var head = pattern[..at];
        var since = (_time.GetUtcNow() - IncrementalWindow).UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        if (!head.Contains("{job}", StringComparison.Ordinal))
        {
            yield return (_settings.Prefix + head, _settings.Prefix + head + since);
            yield break;
        }

        if (_jobs.Count == 0)
        {
            yield return (_settings.Prefix, null);
            yield break;
        }

        foreach (var job in _jobs)
        {
            var start = _settings.Prefix + head.Replace("{job}", job, StringComparison.Ordinal);
            yield return (start, start + since);
        }
    }

    private async IAsyncEnumerable<MarkerEntry> ListAsync(string prefix, string? startAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _settings.Bucket, Prefix = prefix, StartAfter = startAfter };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(request, cancellationToken);
            }
            catch (Exception e) when (IsStoreError(e, cancellationToken))
            {
                throw new IOException($"cannot list the markers in {_settings.Url}: {Describe(e)}", e);
            }

            foreach (var o in page.S3Objects ?? [])
            {
                if (!o.Key.EndsWith(".done", StringComparison.Ordinal) || !o.Key.StartsWith(_settings.Prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var relative = o.Key[_settings.Prefix.Length..];
                if (IsSuperseded(relative))
                {
                    continue;
                }

                var written = o.LastModified is { } modified ? Utc(modified) : (DateTimeOffset?)null;
                yield return new MarkerEntry(relative, o.Size) { WrittenAt = written, ETag = o.ETag };
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>The SDK's times as UTC, whatever their kind says (an unspecified one is UTC, as S3 sends it).</summary>
    private static DateTimeOffset Utc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>What notification sources post, until cancelled; nothing at all without a source.</summary>
    public IAsyncEnumerable<MarkerEntry> WatchAsync(CancellationToken cancellationToken) => Notices.ReadAllAsync(cancellationToken);

    /// <summary>A failure of the store or the way to it (never the caller's own cancellation): reported, not thrown raw.</summary>
    // A server's answer the SDK cannot make sense of is the store's error too: the SDK throws what
    // its parsing throws (an ETag that is not hex: ArgumentOutOfRangeException; a bad date or XML).
    private static bool IsStoreError(Exception e, CancellationToken cancellationToken) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or System.Net.Sockets.SocketException
            or ArgumentException or FormatException or System.Xml.XmlException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>One line: the service's error code and message, or what went wrong on the way.</summary>
    internal static string Describe(Exception e) => e switch
    {
        AmazonServiceException s when s.ErrorCode is { Length: > 0 } code => $"{code}: {s.Message}",
        AmazonServiceException s => $"HTTP {(int)s.StatusCode}: {s.Message}",
        OperationCanceledException => $"no answer within {S3Clients.RequestTimeout.TotalSeconds:0} s",
        _ when e.InnerException is HttpRequestException or System.Net.Sockets.SocketException => e.InnerException.Message,
        ArgumentException or FormatException or System.Xml.XmlException => $"an answer the AWS SDK could not read: {e.Message}",
        _ => e.Message,
    };

    public void Dispose() => _client.Dispose();
}
