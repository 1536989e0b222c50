using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// Verifies an SNS message's signature with the certificate its <c>SigningCertURL</c> names:
/// <c>SignatureVersion</c> 1 is SHA1withRSA, 2 is SHA256withRSA, over <see cref="SnsMessage.StringToSign"/>
/// (System.Security.Cryptography: <see cref="X509Certificate2"/>, <see cref="RSA"/>). The URL must
/// pass <see cref="SnsHosts"/> before anything is fetched. Certificates are fetched with a timeout,
/// at most <see cref="MaxCertificateBytes"/>, and kept for <see cref="CacheFor"/> in a cache of at most
/// <see cref="CacheSize"/> URLs (only their public keys and validity: nothing disposable is shared).
/// A certificate that cannot be fetched now (a timeout, a 5xx, no network) throws an
/// <see cref="IOException"/>: the sender should deliver again; everything else is a refusal.
/// </summary>
public sealed class SnsSignatureVerifier(HttpClient http, IReadOnlyList<string> hosts, TimeProvider time)
{
    public const int MaxCertificateBytes = 64 * 1024;
    public const int CacheSize = 32;
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CacheFor = TimeSpan.FromHours(24);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Key> _cache = new(StringComparer.Ordinal);

    /// <summary>How many certificates were fetched (for tests of the cache).</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    private int _fetches;

    /// <summary>Null when the message is signed by the certificate it names, else why not.</summary>
    public async ValueTask<string?> VerifyAsync(SnsMessage message, CancellationToken cancellationToken)
    {
        HashAlgorithmName? hash = message.SignatureVersion switch
        {
            "1" => HashAlgorithmName.SHA1,
            "2" => HashAlgorithmName.SHA256,
            _ => null,
        };
        if (message.Signature is not { Length: > 0 } || message.SignatureVersion is null)
        {
            return "it is not signed (no Signature or SignatureVersion)";
        }

        if (hash is not { } algorithm)
        {
            return $"its SignatureVersion '{S3EventParser.Shown(message.SignatureVersion)}' is not 1 (SHA1withRSA) or 2 (SHA256withRSA)";
        }

        if (SnsHosts.Problem(message.SigningCertUrl, hosts, "SigningCertURL", certificate: true) is { } problem)
        {
            return problem;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(message.Signature);
        }
        catch (FormatException)
        {
            return "its Signature is not base64";
        }

        var key = await KeyAsync(message.SigningCertUrl!, cancellationToken);
        if (key.Problem is { } bad)
        {
            return bad;
        }

        var now = time.GetUtcNow();
        if (now < key.NotBefore || now > key.NotAfter)
        {
            return $"its signing certificate is not valid now (valid {key.NotBefore:yyyy-MM-dd} to {key.NotAfter:yyyy-MM-dd})";
        }

        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(key.PublicKey, out _);
        return rsa.VerifyData(Encoding.UTF8.GetBytes(message.StringToSign()), signature, algorithm, RSASignaturePadding.Pkcs1)
            ? null
            : $"its signature does not match (SignatureVersion {message.SignatureVersion}): the message was changed or not signed by that certificate";
    }

    private async ValueTask<Key> KeyAsync(string url, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_cache.TryGetValue(url, out var cached) && time.GetUtcNow() - cached.FetchedAt < CacheFor)
            {
                return cached;
            }
        }

        var key = await FetchAsync(url, cancellationToken);
        lock (_gate)
        {
            if (_cache.Count >= CacheSize && !_cache.ContainsKey(url))
            {
                _cache.Remove(_cache.MinBy(e => e.Value.FetchedAt).Key);
            }

            _cache[url] = key;
        }

        return key;
    }

    private async Task<Key> FetchAsync(string url, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fetches);
        using var timeout = new CancellationTokenSource(FetchTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var host = new Uri(url).Host;
        byte[] body;
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw new IOException($"the SNS signing certificate at https://{host}/… answered {(int)response.StatusCode}; deliver again later");
            }

            if (!response.IsSuccessStatusCode)
            {
                return Key.Refused($"its signing certificate at https://{host}/… answered {(int)response.StatusCode} {response.ReasonPhrase}", time.GetUtcNow());
            }

            body = await ReadAtMostAsync(await response.Content.ReadAsStreamAsync(linked.Token), linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"the SNS signing certificate at https://{host}/… did not come within {FetchTimeout.TotalSeconds:0} s; deliver again later");
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"cannot fetch the SNS signing certificate at https://{host}/…: {e.Message}", e);
        }

        if (body.Length > MaxCertificateBytes)
        {
            return Key.Refused($"its signing certificate at https://{host}/… is over {MaxCertificateBytes / 1024} KiB", time.GetUtcNow());
        }

        try
        {
            using var certificate = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(body));
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null)
            {
                return Key.Refused("its signing certificate has no RSA key", time.GetUtcNow());
            }

            return new Key(rsa.ExportSubjectPublicKeyInfo(), certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), time.GetUtcNow(), null);
        }
        catch (CryptographicException)
        {
            return Key.Refused($"its signing certificate at https://{host}/… is not a PEM X.509 certificate", time.GetUtcNow());
        }
    }

    private static async Task<byte[]> ReadAtMostAsync(Stream stream, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            var buffer = new byte[MaxCertificateBytes + 1];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
            {
                total += n;
            }

            return buffer.AsSpan(0, total).ToArray();
        }
    }

    /// <summary>A certificate's public key and validity, or why it cannot be used (kept too, so a bad URL is not fetched again and again).</summary>
    private sealed record Key(byte[] PublicKey, DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset FetchedAt, string? Problem)
    {
        public static Key Refused(string problem, DateTimeOffset at) => new([], default, default, at, problem);
    }
}
