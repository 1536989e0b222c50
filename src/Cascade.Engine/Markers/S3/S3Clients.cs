using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Markers.S3;

/// <summary>
/// Builds the S3 client for a marker bucket. Credentials come from the standard AWS chain
/// (environment variables, the shared credentials file and profile, web identity, container and
/// instance roles); nothing secret is ever in the pipeline file. A custom endpoint (MinIO, s3rver, a
/// gateway) gets the settings third-party servers need: checksums only where the API requires them.
/// </summary>
public static class S3Clients
{
    /// <summary>How long one S3 request may take before it is retried (the SDK retries transient failures itself).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The client, or an <see cref="IOException"/> saying what is missing (a region, most often).</summary>
    public static IAmazonS3 Create(MarkerSettings.S3 settings)
    {
        var config = new AmazonS3Config { ForcePathStyle = settings.PathStyle, Timeout = RequestTimeout };
        if (settings.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = settings.Region ?? "us-east-1";
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        else if (settings.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        try
        {
            return new AmazonS3Client(config);
        }
        catch (AmazonClientException e)
        {
            throw new IOException($"cannot reach the marker bucket {settings.Url}: {e.Message} (set markers.s3.region or AWS_REGION, or markers.s3.endpoint)", e);
        }
    }
}
