using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Executors.Http;

/// <summary>
/// Signs an activation request with AWS Signature Version 4 through the AWS SDK's standalone signer
/// (<see cref="AWSSigV4Signer"/> in AWSSDK.Core, Native-AOT clean; ADR 16): the SDK builds the
/// canonical request, the string to sign and the signature, and adds a session token of temporary
/// credentials. Nothing of SigV4 is written here.
/// </summary>
internal static class AwsSigV4
{
    /// <summary>The headers to add to the request (<c>Authorization</c>, <c>X-Amz-Date</c>, the content hash, a token).</summary>
    public static async Task<IReadOnlyList<KeyValuePair<string, string>>> SignAsync(
        RenderedRequest request, string? contentType, AwsSigning aws, AWSCredentials credentials, DateTime signedAtUtc, CancellationToken cancellationToken)
    {
        var signing = new AWSSigningRequest { HttpMethod = new HttpMethod(request.Method), RequestUri = request.Url, Content = request.Body ?? [] };
        foreach (var (name, value) in request.Headers)
        {
            signing.Headers[name] = value;
        }

        if (contentType is not null)
        {
            signing.Headers["Content-Type"] = contentType;
        }

        var result = await AWSSigV4Signer.SignAsync(signing, new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = RegionEndpoint.GetBySystemName(aws.Region),
            Service = aws.Service,
            SignPayload = true,
            SignedAt = signedAtUtc,
        }, cancellationToken);
        return [.. result.Headers.Where(h => !IsSent(h.Key, request)).Select(h => new KeyValuePair<string, string>(h.Key, h.Value))];
    }

    /// <summary>Headers the request carries already, or that HttpClient sets itself from the URL and content.</summary>
    private static bool IsSent(string name, RenderedRequest request) =>
        name.Equals("Host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
        || request.Headers.Any(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
}
