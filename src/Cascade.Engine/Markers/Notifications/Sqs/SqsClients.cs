using Amazon;
using Amazon.Runtime;
using Amazon.SQS;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Markers.Notifications.Sqs;

/// <summary>
/// Builds the SQS client for <c>events.sqs</c>, as <see cref="S3.S3Clients"/> does for the bucket:
/// credentials from the standard AWS chain (environment, shared files and profile, web identity,
/// container and instance roles), an endpoint override for SQS-compatible servers.
/// <para>The SDK's own retries are off (<c>MaxErrorRetry = 0</c>): <see cref="SqsConsumer"/> retries with
/// Polly on the injected clock, so back-off is one policy, visible in the log and testable with a fake clock.</para>
/// </summary>
public static class SqsClients
{
    /// <summary>The client, or an <see cref="IOException"/> saying what is missing (a region, most often).</summary>
    /// <param name="settings">The queue, as the pipeline file says.</param>
    /// <param name="credentials">Only for tests; null reads the standard AWS chain.</param>
    public static IAmazonSQS Create(SqsSettings settings, AWSCredentials? credentials = null)
    {
        // A long poll holds the request for up to WaitSeconds: the request timeout must outlast it.
        var config = new AmazonSQSConfig { Timeout = TimeSpan.FromSeconds(settings.WaitSeconds + 20), MaxErrorRetry = 0 };
        if (settings.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = settings.Region ?? "us-east-1";
        }
        else if (settings.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        try
        {
            return credentials is null ? new AmazonSQSClient(config) : new AmazonSQSClient(credentials, config);
        }
        catch (AmazonClientException e)
        {
            throw new IOException($"cannot use the queue {settings.QueueUrl}: {e.Message} (set events.sqs.region or AWS_REGION, or events.sqs.endpoint)", e);
        }
    }
}
