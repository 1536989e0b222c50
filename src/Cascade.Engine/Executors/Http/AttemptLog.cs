using System.Globalization;

namespace Cascade.Engine.Executors.Http;

/// <summary>The log of a remote attempt: one timestamped line per step, written at once (so <c>cascade logs --follow</c> shows it live).</summary>
internal sealed class AttemptLog(string path, TimeProvider time, bool append = false) : IAsyncDisposable
{
    private StreamWriter? _writer;

    public async Task WriteAsync(string line)
    {
        try
        {
            if (_writer is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                _writer = new StreamWriter(path, append);
            }

            await _writer.WriteLineAsync($"[cascade] {time.GetUtcNow().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {line}");
            await _writer.FlushAsync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk loses the log, never the outcome.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }
    }
}
