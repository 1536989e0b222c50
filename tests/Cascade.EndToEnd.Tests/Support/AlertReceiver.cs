using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>A webhook receiver on 127.0.0.1 that keeps every POSTed body and answers 200.</summary>
public sealed class AlertReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public AlertReceiver()
    {
        Url = $"http://127.0.0.1:{FreePort()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public string Url { get; }

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

            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                Bodies.Enqueue(await reader.ReadToEndAsync());
            }

            context.Response.StatusCode = 200;
            context.Response.Close();
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
