using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Cascade.Core.Pipelines;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Cascade.Engine.Markers.Notifications.Sqs;

/// <summary>
/// Consumes <c>events.sqs</c>: long-polls the queue and hands each message's body, as it is, to the
/// <see cref="INotificationIntake"/> (which parses S3, SNS-wrapped and EventBridge bodies and
/// de-duplicates). A message is deleted only after <see cref="INotificationIntake.AcceptAsync(string, NotificationChannel, CancellationToken)"/>
/// returned, that is once what it queued is durable (ADR 20):
/// <list type="bullet">
/// <item>accepted (new, duplicate or ignored records): deleted;</item>
/// <item>refused (not JSON, a bad signature, an unlisted topic; the same body is refused on every
/// delivery): deleted with a warning, since receiving it again can only repeat the refusal, and the
/// periodic listing finds any marker it named (guarantee 8);</item>
/// <item>a transient failure (the intake threw): not deleted; the queue's visibility timeout hands
/// it out again.</item>
/// </list>
/// <para>Failures of SQS itself (down, 5xx, throttling, a network error) are retried with exponential
/// back-off through Polly, each logged as one line, without end: the consumer never stops the
/// scheduler and recovers by itself. Cancellation ends a long poll in flight at once.</para>
/// </summary>
public sealed class SqsConsumer : INotificationSource, IDisposable
{
    /// <summary>The first wait after a failed receive; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>Tries of a failed delete after the first (what is not deleted comes back and is de-duplicated by the intake).</summary>
    public const int DeleteRetries = 3;

    private readonly IAmazonSQS _client;
    private readonly SqsSettings _settings;
    private readonly INotificationIntake _intake;
    private readonly ILogger _logger;

    // Built at first use: Polly validates its options by reflection (see AlertDispatcher).
    private readonly Lazy<ResiliencePipeline> _receiving;
    private readonly Lazy<ResiliencePipeline> _deleting;
    private readonly string _name;
    private bool _failing;

    public SqsConsumer(IAmazonSQS client, SqsSettings settings, INotificationIntake intake, TimeProvider time, ILogger logger)
    {
        _client = client;
        _settings = settings;
        _intake = intake;
        _logger = logger;
        _name = $"sqs {settings.QueueUrl}";
        Describe = _name;
        _receiving = new Lazy<ResiliencePipeline>(() => Retrying(time, int.MaxValue, "receiving", receiving: true));
        _deleting = new Lazy<ResiliencePipeline>(() => Retrying(time, DeleteRetries, "deleting", receiving: false));
    }

    public string Describe { get; }

    /// <summary>Disposes the SQS client the consumer was given.</summary>
    public void Dispose() => _client.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var messages = await ReceiveAsync(cancellationToken);
                var handled = await HandAllAsync(messages, cancellationToken);
                await DeleteAsync(handled, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: a message received but not yet deleted comes back after its visibility timeout.
                return;
            }
        }
    }

    private async Task<List<Message>> ReceiveAsync(CancellationToken cancellationToken)
    {
        var request = new ReceiveMessageRequest
        {
            QueueUrl = _settings.QueueUrl,
            WaitTimeSeconds = _settings.WaitSeconds,
            MaxNumberOfMessages = _settings.MaxMessages,
            VisibilityTimeout = _settings.VisibilityTimeout is { } v ? (int)v.TotalSeconds : null,
        };
        var response = await _receiving.Value.ExecuteAsync(async ct => await _client.ReceiveMessageAsync(request, ct), cancellationToken);
        if (_failing)
        {
            _failing = false;
            _logger.LogWarning("{Source}: receiving again", _name);
        }

        // The SDK returns null, not an empty list, when no message came within the wait.
        return response.Messages ?? [];
    }

    /// <summary>Each message to the intake, in order; the ones whose effects are durable (or that are refused for good) come back to be deleted.</summary>
    private async Task<List<Message>> HandAllAsync(List<Message> messages, CancellationToken cancellationToken)
    {
        var handled = new List<Message>(messages.Count);
        foreach (var message in messages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IntakeResult result;
            try
            {
                result = await _intake.AcceptAsync(message.Body ?? string.Empty, NotificationChannel.Sqs, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // the intake's failures are transient by its contract: the message stays in the queue, the consumer goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                _logger.LogWarning("{Source}: message {MessageId} not taken ({Error}); the queue hands it out again after its visibility timeout", _name, message.MessageId, e.Message);
                continue;
            }

            if (result.Refusal is { } refusal)
            {
                _logger.LogWarning("{Source}: message {MessageId} refused ({Refusal}); deleted (the periodic listing finds any marker it named)", _name, message.MessageId, refusal);
            }

            handled.Add(message);
        }

        return handled;
    }

    private async Task DeleteAsync(List<Message> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var request = new DeleteMessageBatchRequest
        {
            QueueUrl = _settings.QueueUrl,
            Entries = [.. messages.Select((m, i) => new DeleteMessageBatchRequestEntry(i.ToString(System.Globalization.CultureInfo.InvariantCulture), m.ReceiptHandle))],
        };
        DeleteMessageBatchResponse response;
        try
        {
            response = await _deleting.Value.ExecuteAsync(async ct => await _client.DeleteMessageBatchAsync(request, ct), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("{Source}: {Count} handled message(s) not deleted ({Error}); they come back and the intake knows them", _name, messages.Count, Reason(e));
            return;
        }

        if (response.Failed is { Count: > 0 } failed)
        {
            _logger.LogWarning("{Source}: {Count} handled message(s) not deleted ({Code}: {Error}); they come back and the intake knows them", _name, failed.Count, failed[0].Code, failed[0].Message);
        }
    }

    private ResiliencePipeline Retrying(TimeProvider time, int retries, string what, bool receiving) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = retries,
                Delay = FirstRetryDelay,
                MaxDelay = MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // Everything but our own stop: a request timeout is an OperationCanceledException too.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
                OnRetry = args =>
                {
                    _failing |= receiving;
                    _logger.LogWarning("{Source}: {What} failed ({Error}); trying again in {Delay}", _name, what, Reason(args.Outcome.Exception!), Core.Model.Duration.Format(args.RetryDelay));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>One line for a failure: the service's error code and status, or the network's reason.</summary>
    internal static string Reason(Exception e) => e switch
    {
        AmazonServiceException { ErrorCode: { Length: > 0 } code } s => $"{code}, HTTP {(int)s.StatusCode}: {s.Message}",
        AmazonServiceException { InnerException: { } inner } => Reason(inner),
        OperationCanceledException => "no answer in time",
        _ when e.InnerException is HttpRequestException or System.Net.Sockets.SocketException => Reason(e.InnerException),
        _ => e.Message,
    };
}
