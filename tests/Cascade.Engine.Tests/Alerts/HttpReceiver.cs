using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cascade.Engine.Tests.Alerts;

/// <summary>One request as the receiver saw it.</summary>
internal sealed record ReceivedRequest(string Method, string RawPath, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>How the receiver answers its n-th request (1-based): a status, after a delay.</summary>
internal sealed record ReceiverAnswer(HttpStatusCode Status, TimeSpan Delay)
{
    /// <summary>The answer's body, if any.</summary>
    public string? Body { get; init; }

    public static ReceiverAnswer Ok { get; } = new(HttpStatusCode.OK, TimeSpan.Zero);
}

/// <summary>
/// A tiny real HTTP receiver on 127.0.0.1 (System.Net.HttpListener on a free port). It records every
/// request (method, raw path, headers, body) as soon as the body is read, then answers as told:
/// with a chosen status, possibly slowly. Slow answers wait on a signal with a bound (no sleeps) and
/// end at once when the receiver is disposed.
/// </summary>
internal sealed class HttpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<int, ReceiverAnswer> _answer;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly List<Task> _handlers = [];
    private readonly Task _loop;

    private HttpReceiver(HttpListener listener, int port, Func<int, ReceiverAnswer> answer)
    {
        _listener = listener;
        _answer = answer;
        Port = port;
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>http://127.0.0.1:PORT (no trailing slash).</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>A snapshot of the requests so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts a receiver that answers every request with <paramref name="answer"/> (default: 200 at once).</summary>
    public static HttpReceiver Start(Func<int, ReceiverAnswer>? answer = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new HttpReceiver(listener, port, answer ?? (_ => ReceiverAnswer.Ok));
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // someone took the port between probing and listening: try another
                listener.Close();
            }
        }
    }

    /// <summary>A URL on 127.0.0.1 where nothing listens (a receiver that is down).</summary>
    public static string DownUrl(string path) => $"http://127.0.0.1:{FreePort()}{path}";

    /// <summary>Completes once at least <paramref name="count"/> requests have arrived; fails the test after <paramref name="bound"/>.</summary>
    public async Task WaitForRequestsAsync(int count, TimeSpan bound)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_requests.Count >= count)
            {
                return;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(bound, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the receiver got {Requests.Count} request(s) within {bound.TotalSeconds:0.#}s; expected at least {count}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        _listener.Close();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        Task[] handlers;
        lock (_gate)
        {
            handlers = [.. _handlers];
        }

        await Task.WhenAll(handlers).WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        _closing.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (_gate)
            {
                _handlers.Add(Task.Run(() => HandleAsync(context)));
            }
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            string body;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                body = await reader.ReadToEndAsync();
            }

            var headers = context.Request.Headers.AllKeys
                .Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k] ?? string.Empty, StringComparer.OrdinalIgnoreCase);
            var request = new ReceivedRequest(context.Request.HttpMethod, context.Request.RawUrl ?? string.Empty, headers, body);
            int n;
            lock (_gate)
            {
                _requests.Add(request);
                n = _requests.Count;
                foreach (var waiter in _waiters.Where(w => w.Count <= n).ToList())
                {
                    waiter.Signal.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }

            var answer = _answer(n);
            if (answer.Delay > TimeSpan.Zero)
            {
                try
                {
                    // Never signalled: waits out the delay, or ends when the receiver closes.
                    await new TaskCompletionSource().Task.WaitAsync(answer.Delay, TimeProvider.System, _closing.Token);
                }
                catch (TimeoutException)
                {
                    // the slow answer is due
                }
            }

            context.Response.StatusCode = (int)answer.Status;
            if (answer.Body is { } text)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                await context.Response.OutputStream.WriteAsync(bytes);
            }

            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException or OperationCanceledException or IOException)
        {
            // the client gave up or the receiver is closing
            context.Response.Abort();
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        var port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }
}
