using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Tests.Support;

/// <summary>
/// The S3-compatible server the test script starts on 127.0.0.1 (s3rver, see scripts/test.sh), at
/// <c>CASCADE_TEST_S3_URL</c>. Without it a test that needs it fails under <c>CI=true</c> and, elsewhere,
/// says it did not run and returns. Each test gets a bucket of its own.
/// </summary>
internal static class S3Server
{
    public const string Variable = "CASCADE_TEST_S3_URL";

    /// <summary>s3rver accepts only these credentials.</summary>
    public const string AccessKey = "S3RVER";

    public static string? Url => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url ? url.TrimEnd('/') : null;

    /// <summary>The server's URL, or null (and a line saying the test did not run) when there is none outside CI.</summary>
    public static string? Require(string test)
    {
        if (Url is { } url)
        {
            // The store's client reads its credentials from the standard chain: the environment, as a user's would.
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", AccessKey);
            return url;
        }

        var why = $"{test}: no S3-compatible server ({Variable} is not set; scripts/test.sh starts s3rver on 127.0.0.1 and sets it)";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", why);
        Console.WriteLine($"not run: {why}");
        return null;
    }

    /// <summary>A client for the test's own look at the bucket (creating it, putting objects as a producer would).</summary>
    public static AmazonS3Client Client(string url) => new(new BasicAWSCredentials(AccessKey, AccessKey), new AmazonS3Config
    {
        ServiceURL = url,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>A new empty bucket with a unique name, and the settings of a marker store in it.</summary>
    public static async Task<MarkerSettings.S3> NewBucketAsync(string url, string prefix = "done/")
    {
        var bucket = "t-" + Guid.NewGuid().ToString("N")[..20];
        using var client = Client(url);
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return new MarkerSettings.S3(bucket, prefix, url, "us-east-1", PathStyle: true);
    }

    public static async Task PutAsync(string url, string bucket, string key, byte[] body)
    {
        using var client = Client(url);
        using var stream = new MemoryStream(body);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = stream, UseChunkEncoding = false });
    }

    /// <summary>The object's bytes, or null when there is none.</summary>
    public static async Task<byte[]?> GetAsync(string url, string bucket, string key)
    {
        using var client = Client(url);
        try
        {
            using var response = await client.GetObjectAsync(bucket, key);
            using var copy = new MemoryStream();
            await response.ResponseStream.CopyToAsync(copy);
            return copy.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public static async Task<List<string>> KeysAsync(string url, string bucket)
    {
        using var client = Client(url);
        var keys = new List<string>();
        await foreach (var o in client.Paginators.ListObjectsV2(new ListObjectsV2Request { BucketName = bucket }).S3Objects)
        {
            keys.Add(o.Key);
        }

        return keys;
    }
}
