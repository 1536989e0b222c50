using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// A remote job's API on 127.0.0.1 for <c>run.http</c> activations: it keeps every request's body,
/// runs <see cref="OnActivation"/> (what the remote job does, e.g. write its marker) and answers
/// with its status.
/// </summary>
public sealed class ActivationReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public ActivationReceiver(Func<string, Task<int>> onActivation)
    {
        OnActivation = onActivation;
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)socket.LocalEndpoint).Port}/";
        socket.Stop();
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public string Url { get; }

    public Func<string, Task<int>> OnActivation { get; }

    public ConcurrentQueue<string> Bodies { get; } = new();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the loop ends with the listener
        }
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
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

            string body;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                body = await reader.ReadToEndAsync();
            }

            Bodies.Enqueue(body);
            context.Response.StatusCode = await OnActivation(body);
            context.Response.Close();
        }
    }
}
