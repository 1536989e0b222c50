using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// A bucket of its own on the S3-compatible server that scripts/test.sh starts on 127.0.0.1
/// (s3rver, at <c>CASCADE_TEST_S3_URL</c>). Without the server a test fails under <c>CI=true</c> and
/// elsewhere says it did not run. <see cref="Environment"/> gives a <c>cascade</c> process the
/// server's credentials the standard AWS way.
/// </summary>
public sealed class S3Bucket : IDisposable
{
    private readonly AmazonS3Client _client;

    private S3Bucket(string url, string name)
    {
        Url = url;
        Name = name;
        _client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = url,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public string Url { get; }

    public string Name { get; }

    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = "S3RVER",
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
    };

    /// <summary>A new bucket, or null (having said why) when there is no server outside CI.</summary>
    public static async Task<S3Bucket?> CreateAsync(string test)
    {
        if (System.Environment.GetEnvironmentVariable("CASCADE_TEST_S3_URL") is not { Length: > 0 } url)
        {
            var why = $"{test}: no S3-compatible server (CASCADE_TEST_S3_URL is not set; scripts/test.sh starts s3rver and sets it)";
            Assert.False(System.Environment.GetEnvironmentVariable("CI") == "true", why);
            Console.WriteLine($"not run: {why}");
            return null;
        }

        var bucket = new S3Bucket(url.TrimEnd('/'), "e2e-" + Guid.NewGuid().ToString("N")[..20]);
        await bucket._client.PutBucketAsync(new PutBucketRequest { BucketName = bucket.Name });
        return bucket;
    }

    public async Task PutAsync(string key, string body)
    {
        await _client.PutObjectAsync(new PutObjectRequest { BucketName = Name, Key = key, ContentBody = body, UseChunkEncoding = false });
    }

    /// <summary>The object's text, or null when there is none.</summary>
    public async Task<string?> GetAsync(string key)
    {
        try
        {
            using var response = await _client.GetObjectAsync(Name, key);
            using var reader = new StreamReader(response.ResponseStream);
            return await reader.ReadToEndAsync();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (ArgumentOutOfRangeException)
        {
            // s3rver can answer an object being replaced with an ETag the SDK cannot parse: not there yet.
            return null;
        }
    }

    public async Task<List<string>> KeysAsync()
    {
        var keys = new List<string>();
        await foreach (var o in _client.Paginators.ListObjectsV2(new ListObjectsV2Request { BucketName = Name }).S3Objects)
        {
            keys.Add(o.Key);
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    public void Dispose() => _client.Dispose();
}
