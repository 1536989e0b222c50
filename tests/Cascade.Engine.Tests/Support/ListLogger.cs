using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Tests.Support;

/// <summary>A logger that keeps every line (level, message, exception) for the test to read.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly Lock _gate = new();
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> _lines = [];

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_gate)
        {
            _lines.Add((logLevel, formatter(state, exception), exception));
        }
    }
}
