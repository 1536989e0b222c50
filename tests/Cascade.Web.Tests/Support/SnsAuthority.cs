using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Cascade.Engine.Markers.Notifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cascade.Web.Tests.Support;

/// <summary>
/// SNS as far as a subscriber sees it, on 127.0.0.1: a certificate the test makes (CertificateRequest,
/// RSA 2048) served over https by a real Kestrel with that certificate, messages in SNS's format
/// signed with its key (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA over the canonical
/// string), and a SubscribeURL endpoint that records every GET. <see cref="Handler"/> trusts exactly
/// this certificate, as a machine's trust store trusts SNS's.
/// </summary>
internal sealed class SnsAuthority : IAsyncDisposable
{
    public const string Topic = "arn:aws:sns:us-east-1:123456789012:done";
    public const string CertificatePath = "/SimpleNotificationService-test.pem";

    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly WebApplication _app;

    private SnsAuthority(RSA key, X509Certificate2 certificate, WebApplication app, string url, ConcurrentQueue<string> requests)
    {
        Requests = requests;
        _key = key;
        _certificate = certificate;
        _app = app;
        Url = url;
        Handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
    }

    /// <summary>https://127.0.0.1:PORT</summary>
    public string Url { get; }

    public HttpMessageHandler Handler { get; }

    /// <summary>Every request the server got, as <c>METHOD path?query</c>.</summary>
    public ConcurrentQueue<string> Requests { get; }

    public string CertificateUrl => Url + CertificatePath;

    public static async Task<SnsAuthority> StartAsync()
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=sns.test, O=Cascade tests", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var certificate = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddDays(-1), TimeProvider.System.GetUtcNow().AddDays(30));

        var requests = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var pem = certificate.ExportCertificatePem();
        app.Run(async context =>
        {
            requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            if (context.Request.Path == CertificatePath)
            {
                context.Response.ContentType = "application/x-pem-file";
                await context.Response.WriteAsync(pem);
            }
            else if (context.Request.Path == "/confirm")
            {
                await context.Response.WriteAsync("<ConfirmSubscriptionResponse/>");
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return new SnsAuthority(key, certificate, app, url.TrimEnd('/'), requests);
    }

    /// <summary>A Notification carrying <paramref name="message"/>, signed (version 1 or 2) by this authority unless told otherwise.</summary>
    public string Notification(string message, string topic = Topic, string version = "1", string? certificateUrl = null, bool sign = true, string? id = null) =>
        Envelope(new SnsMessage
        {
            Type = SnsMessage.NotificationType,
            MessageId = id ?? Guid.NewGuid().ToString(),
            TopicArn = topic,
            Subject = "Amazon S3 Notification",
            Message = message,
            Timestamp = "2019-03-13T02:00:01.000Z",
            SignatureVersion = version,
            SigningCertUrl = certificateUrl ?? CertificateUrl,
        }, sign);

    /// <summary>A SubscriptionConfirmation whose SubscribeURL is this server's /confirm (or <paramref name="subscribeUrl"/>).</summary>
    public string Confirmation(string topic = Topic, string? subscribeUrl = null) =>
        Envelope(new SnsMessage
        {
            Type = SnsMessage.SubscriptionConfirmationType,
            MessageId = Guid.NewGuid().ToString(),
            TopicArn = topic,
            Token = "2336412f37fb687f5d51e6e2425dacbba",
            SubscribeUrl = subscribeUrl ?? $"{Url}/confirm?Action=ConfirmSubscription&TopicArn={topic}&Token=2336412f37fb687f5d51e6e2425dacbba",
            Message = $"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            Timestamp = "2019-03-13T02:00:00.000Z",
            SignatureVersion = "1",
            SigningCertUrl = CertificateUrl,
        }, sign: true);

    /// <summary>The message as SNS posts it: its fields, and the signature over the canonical string.</summary>
    public string Envelope(SnsMessage m, bool sign)
    {
        var hash = m.SignatureVersion == "2" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1;
        var signature = sign ? Convert.ToBase64String(_key.SignData(Encoding.UTF8.GetBytes(m.StringToSign()), hash, RSASignaturePadding.Pkcs1)) : null;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("Type", m.Type);
            w.WriteString("MessageId", m.MessageId);
            if (m.Token is not null)
            {
                w.WriteString("Token", m.Token);
            }

            w.WriteString("TopicArn", m.TopicArn);
            if (m.Subject is not null)
            {
                w.WriteString("Subject", m.Subject);
            }

            w.WriteString("Message", m.Message);
            if (m.SubscribeUrl is not null)
            {
                w.WriteString("SubscribeURL", m.SubscribeUrl);
            }

            w.WriteString("Timestamp", m.Timestamp);
            w.WriteString("SignatureVersion", m.SignatureVersion);
            if (signature is not null)
            {
                w.WriteString("Signature", signature);
            }

            w.WriteString("SigningCertURL", m.SigningCertUrl);
            if (m.IsNotification)
            {
                w.WriteString("UnsubscribeURL", $"{Url}/?Action=Unsubscribe&SubscriptionArn={m.TopicArn}:c9135db0");
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Handler.Dispose();
        _certificate.Dispose();
        _key.Dispose();
    }
}
