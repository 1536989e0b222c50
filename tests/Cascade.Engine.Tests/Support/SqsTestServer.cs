using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cascade.Engine.Tests.Alerts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Tests.Support;

/// <summary>
/// A small SQS-compatible server on 127.0.0.1 (Kestrel), speaking the SQS JSON protocol that
/// AWSSDK.SQS v4 uses: <c>POST /</c> with <c>X-Amz-Target: AmazonSQS.ReceiveMessage</c> (held up to
/// <c>WaitTimeSeconds</c> on the queue's clock), <c>SendMessage</c>, <c>DeleteMessage</c> and
/// <c>DeleteMessageBatch</c>, with <c>Content-Type: application/x-amz-json-1.0</c>, answers carrying
/// the body's MD5 (the SDK checks it) and errors as <c>{"__type", "message"}</c>. Every request must
/// be signed with SigV4 for these test credentials (checked by <see cref="SigV4Check"/>, written from
/// the published algorithm). One queue, whose state (<see cref="SqsTestQueue"/>) outlives a
/// <see cref="StopAsync"/>, so a test can take the server down and bring it back on the same port.
/// </summary>
internal sealed class SqsTestServer : IAsyncDisposable
{
    public const string AccessKey = "AKIDSQSTEST";
    public const string SecretKey = "sqs-test-secret";
    public const string Region = "us-east-1";
    public const string QueuePath = "/000000000000/done";

    private readonly Lock _gate = new();
    private WebApplication? _app;
    private CancellationTokenSource _stopping = new();
    private int _failNext;
    private HttpStatusCode _failWith = HttpStatusCode.InternalServerError;

    private SqsTestServer(SqsTestQueue queue) => Queue = queue;

    public SqsTestQueue Queue { get; }

    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string QueueUrl => Url + QueuePath;

    /// <summary>Requests per operation (<c>ReceiveMessage</c>…), failed ones included.</summary>
    public IReadOnlyDictionary<string, int> Calls
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, int>(_calls);
            }
        }
    }

    private readonly Dictionary<string, int> _calls = [];

    /// <summary>Problems found with requests (a bad signature, a bad content type): a test asserts there are none.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }

    private readonly List<string> _problems = [];

    public static async Task<SqsTestServer> StartAsync(TimeProvider time, TimeSpan? defaultVisibility = null)
    {
        var server = new SqsTestServer(new SqsTestQueue(time, defaultVisibility ?? TimeSpan.FromSeconds(30)));
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>The next <paramref name="count"/> requests are answered with <paramref name="status"/> (an <c>InternalError</c>).</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.InternalServerError)
    {
        lock (_gate)
        {
            _failNext = count;
            _failWith = status;
        }
    }

    /// <summary>Starts listening (again), on the port it had before if it had one.</summary>
    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, Port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        _stopping = new CancellationTokenSource();
        app.MapPost("/", HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        _app = app;
    }

    /// <summary>Stops listening (held polls end at once, their connections closed); the queue keeps its messages.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await _stopping.CancelAsync();
            await app.StopAsync();
            await app.DisposeAsync();
            _stopping.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        var operation = target.StartsWith("AmazonSQS.", StringComparison.Ordinal) ? target["AmazonSQS.".Length..] : target;
        bool fail;
        HttpStatusCode failWith;
        lock (_gate)
        {
            _calls[operation] = _calls.GetValueOrDefault(operation) + 1;
            fail = _failNext > 0;
            _failNext = Math.Max(0, _failNext - 1);
            failWith = _failWith;
        }

        if (Check(context, body) is { } problem)
        {
            lock (_gate)
            {
                _problems.Add($"{operation}: {problem}");
            }

            await ErrorAsync(context, HttpStatusCode.BadRequest, "IncompleteSignature", problem);
            return;
        }

        if (fail)
        {
            await ErrorAsync(context, failWith, "InternalError", "the test asked for a failure");
            return;
        }

        using var json = JsonDocument.Parse(body);
        var request = json.RootElement;
        if (request.TryGetProperty(nameof(QueueUrl), out var url) && url.GetString() != QueueUrl)
        {
            context.Response.Headers["x-amzn-query-error"] = "AWS.SimpleQueueService.NonExistentQueue;Sender";
            await ErrorAsync(context, HttpStatusCode.BadRequest, "QueueDoesNotExist", "The specified queue does not exist.");
            return;
        }

        switch (operation)
        {
            case "SendMessage":
                var text = request.GetProperty("MessageBody").GetString()!;
                var id = Queue.Send(text);
                await AnswerAsync(context, w =>
                {
                    w.WriteString("MessageId", id);
                    w.WriteString("MD5OfMessageBody", Md5(text));
                });
                break;
            case "ReceiveMessage":
                await ReceiveAsync(context, request);
                break;
            case "DeleteMessage":
                if (Queue.Delete(request.GetProperty("ReceiptHandle").GetString()!) is { } why)
                {
                    await ErrorAsync(context, HttpStatusCode.BadRequest, why, "The input receipt handle is invalid.");
                    return;
                }

                await AnswerAsync(context, _ => { });
                break;
            case "DeleteMessageBatch":
                var results = request.GetProperty("Entries").EnumerateArray()
                    .Select(e => (Id: e.GetProperty("Id").GetString()!, Problem: Queue.Delete(e.GetProperty("ReceiptHandle").GetString()!)))
                    .ToList();
                await AnswerAsync(context, w =>
                {
                    w.WriteStartArray("Successful");
                    foreach (var r in results.Where(r => r.Problem is null))
                    {
                        w.WriteStartObject();
                        w.WriteString("Id", r.Id);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("Failed");
                    foreach (var r in results.Where(r => r.Problem is not null))
                    {
                        w.WriteStartObject();
                        w.WriteString("Id", r.Id);
                        w.WriteString("Code", r.Problem);
                        w.WriteString("Message", "The input receipt handle is invalid.");
                        w.WriteBoolean("SenderFault", true);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                break;
            default:
                await ErrorAsync(context, HttpStatusCode.BadRequest, "UnsupportedOperation", $"{target} is not served by this test server");
                break;
        }
    }

    private async Task ReceiveAsync(HttpContext context, JsonElement request)
    {
        var max = request.TryGetProperty("MaxNumberOfMessages", out var m) ? m.GetInt32() : 1;
        var wait = request.TryGetProperty("WaitTimeSeconds", out var w) ? w.GetInt32() : 0;
        TimeSpan? visibility = request.TryGetProperty("VisibilityTimeout", out var v) ? TimeSpan.FromSeconds(v.GetInt32()) : null;
        if (max is < 1 or > 10 || wait is < 0 or > 20)
        {
            await ErrorAsync(context, HttpStatusCode.BadRequest, "InvalidParameterValue", "MaxNumberOfMessages is 1 to 10 and WaitTimeSeconds 0 to 20");
            return;
        }

        List<(SqsTestMessage Message, string ReceiptHandle)> taken;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            taken = await Queue.ReceiveAsync(max, TimeSpan.FromSeconds(wait), visibility, ended.Token);
        }
        catch (OperationCanceledException)
        {
            // The client went away (a cancelled long poll) or the server stops: no answer.
            context.Abort();
            return;
        }

        await AnswerAsync(context, writer =>
        {
            writer.WriteStartArray("Messages");
            foreach (var (message, handle) in taken)
            {
                writer.WriteStartObject();
                writer.WriteString("MessageId", message.Id);
                writer.WriteString("ReceiptHandle", handle);
                writer.WriteString("MD5OfBody", Md5(message.Body));
                writer.WriteString("Body", message.Body);
                writer.WriteStartObject("Attributes");
                writer.WriteString("ApproximateReceiveCount", message.ReceiveCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
    }

    /// <summary>What is wrong with the request's protocol or signature, or null.</summary>
    private static string? Check(HttpContext context, string body)
    {
        if (context.Request.ContentType?.StartsWith("application/x-amz-json-1.0", StringComparison.Ordinal) != true)
        {
            return $"content type '{context.Request.ContentType}' is not application/x-amz-json-1.0";
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var received = new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body);
        return SigV4Check.Problem(received, AccessKey, SecretKey, "sqs", Region);
    }

    private static async Task AnswerAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.0";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.ToArray());
    }

    private static async Task ErrorAsync(HttpContext context, HttpStatusCode status, string code, string message)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/x-amz-json-1.0";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("__type", $"com.amazonaws.sqs#{code}");
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.ToArray());
    }

#pragma warning disable CA5351 // MD5 is what the SQS protocol uses to check a message body, not a security measure
    private static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
}
