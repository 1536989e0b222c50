using System.Globalization;
using System.Text.Json;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>A minimal EventSource over HttpClient: reads <c>id:</c>/<c>event:</c>/<c>data:</c> blocks of a streamed response.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    /// <summary>Connects and returns once the stream is subscribed (its preamble read).</summary>
    public static async Task<SseClient> ConnectAsync(HttpClient http, string path, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { Length: > 0 })
        {
            // the preamble (retry, a comment) up to its blank line
        }

        return new SseClient(response, reader);
    }

    public async Task<(long Id, string Event, JsonElement Data)> NextAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        long? id = null;
        string? data = null;
        var name = "message";
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the stream ended");
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
            else if (line.Length == 0 && id is { } i && data is not null)
            {
                return (i, name, JsonDocument.Parse(data).RootElement.Clone());
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
