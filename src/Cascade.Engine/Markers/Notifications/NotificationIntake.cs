using Cascade.Core.Pipelines;
using Cascade.Engine.Markers.S3;
using Cascade.Engine.State;
using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// The one intake of notifications (ADR 19) behind the HTTP endpoint and an SQS consumer: parses a
/// body (<see cref="S3EventParser"/>), authenticates it (an SNS message by its signature and topic,
/// anything unsigned by its sender: <see cref="INotificationIntake"/>), confirms SNS subscriptions
/// to listed topics, maps each created key to the store's marker path (keys outside the bucket,
/// prefix or layout, and unknown jobs, are counted and ignored), drops deliveries already queued
/// (<see cref="NoticeDeduplicator"/>) and queues the rest as one <see cref="Request.Notice"/> row —
/// one transaction per notification — through <c>queue</c>, which commits it and rings the scheduler.
/// A refusal changes nothing and is logged as one warning line.
/// </summary>
public sealed class NotificationIntake : INotificationIntake, IDisposable
{
    private const int MaxReasons = 5;
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(10);

    private readonly Pipeline _pipeline;
    private readonly MarkerSettings.S3? _store;
    private readonly SnsSettings? _sns;
    private readonly Func<Request, CancellationToken, ValueTask<long>> _queue;
    private readonly HttpClient _http;
    private readonly SnsSignatureVerifier? _verifier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly NotificationMetrics? _metrics;
    private readonly NoticeDeduplicator _seen;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// An intake for <paramref name="pipeline"/>'s bucket and topics: <paramref name="queue"/> commits a request
    /// row and rings the scheduler (returns the row's id); <paramref name="http"/> (not owned) fetches SNS
    /// certificates and confirms subscriptions; at most <paramref name="capacity"/> markers' deliveries are remembered.
    /// </summary>
    public NotificationIntake(Pipeline pipeline, Func<Request, CancellationToken, ValueTask<long>> queue, HttpClient http, TimeProvider time, ILogger logger, NotificationMetrics? metrics = null, int capacity = NoticeDeduplicator.DefaultCapacity)
    {
        _pipeline = pipeline;
        _store = pipeline.Definition.Markers as MarkerSettings.S3;
        _sns = pipeline.Definition.Events.Sns;
        _queue = queue;
        _http = http;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _seen = new NoticeDeduplicator(capacity);
        _verifier = _sns is { VerifySignatures: true } sns ? new SnsSignatureVerifier(http, sns.CertificateHosts, time) : null;
    }

    /// <summary>The signature checks (null when they are off), for tests of the certificate cache.</summary>
    public SnsSignatureVerifier? Verifier => _verifier;

    public async ValueTask<IntakeResult> AcceptAsync(string body, NotificationChannel channel, bool senderAuthenticated, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return Refuse(channel, IntakeRefusal.NotConfigured, "this pipeline's markers are in a folder, which is watched by itself: notifications are for markers in a bucket (markers.s3)");
        }

        var parsed = S3EventParser.Parse(body);
        if (parsed is ParsedNotification.Refused refused)
        {
            return Refuse(channel, IntakeRefusal.Invalid, refused.Reason);
        }

        if (parsed.Envelope is { } sns)
        {
            if (await RefuseSnsAsync(sns, senderAuthenticated, cancellationToken) is { } problem)
            {
                return Refuse(channel, problem.Kind, problem.Reason);
            }
        }
        else if (!senderAuthenticated)
        {
            return Refuse(channel, IntakeRefusal.Unauthenticated, "an S3 or EventBridge event is not signed: send it with Authorization: Bearer <CASCADE_API_TOKEN> (only SNS messages are authenticated by their signature)");
        }

        return parsed switch
        {
            ParsedNotification.Subscription => await SubscriptionAsync(parsed.Envelope!, channel, cancellationToken),
            ParsedNotification.Events events => await QueueAsync(events, channel, cancellationToken),
            _ => throw new InvalidOperationException("unreachable"),
        };
    }

    /// <summary>Why an SNS message is not accepted (its topic, its signature, or an unsigned one from an unknown sender), or null.</summary>
    private async ValueTask<(IntakeRefusal Kind, string Reason)?> RefuseSnsAsync(SnsMessage sns, bool senderAuthenticated, CancellationToken cancellationToken)
    {
        var topic = S3EventParser.Shown(sns.TopicArn);
        if (_sns is null)
        {
            return (IntakeRefusal.Forbidden, $"SNS message from topic {topic} refused: the pipeline lists no SNS topics (events.sns.topics)");
        }

        if (!_sns.Topics.Contains(sns.TopicArn, StringComparer.Ordinal))
        {
            return (IntakeRefusal.Forbidden, $"SNS {sns.Type} from topic {topic} refused: the topic is not in events.sns.topics");
        }

        if (_verifier is null)
        {
            return senderAuthenticated ? null : (IntakeRefusal.Unauthenticated, "SNS signatures are not verified (events.sns.verify_signatures: false), so an SNS message needs Authorization: Bearer <CASCADE_API_TOKEN> like any unsigned POST");
        }

        return await _verifier.VerifyAsync(sns, cancellationToken) is { } problem
            ? (IntakeRefusal.Forbidden, $"SNS {sns.Type} {S3EventParser.Shown(sns.MessageId)} from topic {topic} refused: {problem}")
            : null;
    }

    private async Task<IntakeResult> SubscriptionAsync(SnsMessage sns, NotificationChannel channel, CancellationToken cancellationToken)
    {
        if (sns.Type == SnsMessage.UnsubscribeConfirmationType)
        {
            _logger.LogWarning("SNS says the subscription to topic {Topic} was removed (UnsubscribeConfirmation); nothing done (markers are still found by listing)", sns.TopicArn);
            Count(channel, "ignored");
            return new IntakeResult(0, 0, 1) { Reasons = ["UnsubscribeConfirmation: nothing to do"] };
        }

        if (SnsHosts.Problem(sns.SubscribeUrl, _sns!.CertificateHosts, "SubscribeURL", certificate: false) is { } problem)
        {
            return Refuse(channel, IntakeRefusal.Forbidden, $"SNS SubscriptionConfirmation for topic {S3EventParser.Shown(sns.TopicArn)} refused: {problem}");
        }

        using var timeout = new CancellationTokenSource(ConfirmTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var host = new Uri(sns.SubscribeUrl!).Host;
        try
        {
            using var response = await _http.GetAsync(sns.SubscribeUrl, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new IOException($"confirming the SNS subscription to topic {sns.TopicArn}: https://{host}/… answered {(int)response.StatusCode}; SNS may send the confirmation again");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"confirming the SNS subscription to topic {sns.TopicArn}: https://{host}/… did not answer within {ConfirmTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"confirming the SNS subscription to topic {sns.TopicArn}: {e.Message}", e);
        }

        _logger.LogWarning("confirmed the SNS subscription to topic {Topic}", sns.TopicArn);
        return new IntakeResult(0, 0, 0) { Confirmed = sns.TopicArn };
    }

    private async Task<IntakeResult> QueueAsync(ParsedNotification.Events events, NotificationChannel channel, CancellationToken cancellationToken)
    {
        var reasons = new List<string>(events.Ignored);
        var candidates = new List<(string Path, string? ETag, string? Sequencer)>();
        foreach (var record in events.Records)
        {
            if (Marker(record) is { } path)
            {
                candidates.Add((path, record.ETag, record.Sequencer));
            }
            else
            {
                reasons.Add(Why(record));
            }
        }

        var ignored = reasons.Count;
        if (events.Ignored.Count > 0 && events.Records.Count == 0 && _logger.IsEnabled(LogLevel.Information))
        {
            _logger.LogInformation("notification ignored: {Reason}", events.Ignored[0]);
        }

        var duplicates = 0;
        var stale = 0;
        long? request = null;
        var queued = new List<(string Path, string? ETag, string? Sequencer)>();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var batch = new NoticeDeduplicator(Math.Max(2, candidates.Count * 2 + 2));
            foreach (var candidate in candidates)
            {
                var verdict = _seen.Judge(candidate.Path, candidate.ETag, candidate.Sequencer);
                if (verdict == NoticeVerdict.New)
                {
                    verdict = batch.Judge(candidate.Path, candidate.ETag, candidate.Sequencer);
                }

                switch (verdict)
                {
                    case NoticeVerdict.New:
                        queued.Add(candidate);
                        batch.Remember(candidate.Path, candidate.ETag, candidate.Sequencer);
                        break;
                    case NoticeVerdict.Stale:
                        stale++;
                        break;
                    default:
                        duplicates++;
                        break;
                }
            }

            if (queued.Count > 0)
            {
                // Durable first, remembered after: a failed commit is not taken for a delivery seen.
                request = await _queue(Request.ForNotices(queued, _time.GetUtcNow()), cancellationToken);
                foreach (var (path, etag, sequencer) in queued)
                {
                    _seen.Remember(path, etag, sequencer);
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        Count(channel, "queued", queued.Count);
        Count(channel, "duplicate", duplicates);
        Count(channel, "stale", stale);
        Count(channel, "ignored", ignored);
        return new IntakeResult(queued.Count, duplicates + stale, ignored) { Request = request, Reasons = reasons.Take(MaxReasons).ToList() };
    }

    /// <summary>The store's path of a notified object when it is a marker of a job of this pipeline, else null.</summary>
    private string? Marker(NotificationRecord record)
    {
        if (S3MarkerStore.RelativePath(_store!, record.Bucket, record.Key) is not { } path)
        {
            return null;
        }

        var parsed = _pipeline.Definition.Layout.ParseName(path);
        return parsed.Key is { } key && _pipeline.TryGetJob(key.Job, out var job) && job.Grain == key.Partition.Grain ? path : null;
    }

    private string Why(NotificationRecord record)
    {
        var key = S3EventParser.Shown(record.Key);
        if (S3MarkerStore.RelativePath(_store!, record.Bucket, record.Key) is not { } path)
        {
            return record.Bucket != _store!.Bucket
                ? $"{key}: bucket {S3EventParser.Shown(record.Bucket)} is not the pipeline's ({_store.Bucket})"
                : $"{key}: not a marker under {_store.Url} (outside the prefix, superseded, or not .done)";
        }

        var parsed = _pipeline.Definition.Layout.ParseName(path);
        return parsed.Key is not { } runKey ? $"{key}: {parsed.Error}"
            : !_pipeline.TryGetJob(runKey.Job, out var job) ? $"{key}: no job '{runKey.Job}' in the pipeline"
            : $"{key}: job '{runKey.Job}' is {job.Grain.ToString().ToLowerInvariant()}, the partition is not";
    }

    private IntakeResult Refuse(NotificationChannel channel, IntakeRefusal kind, string reason)
    {
        _logger.LogWarning("notification refused ({Channel}): {Reason}; nothing changed", channel == NotificationChannel.Sqs ? "SQS" : "POST /api/events/s3", reason);
        Count(channel, "refused");
        return new IntakeResult(0, 0, 0, reason) { RefusalKind = kind };
    }

    private void Count(NotificationChannel channel, string outcome, int n = 1) => _metrics?.Count(channel, outcome, n);

    public void Dispose() => _gate.Dispose();
}
