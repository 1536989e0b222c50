using Microsoft.Extensions.Logging;

namespace Cascade.Cli.Output;

/// <summary>
/// The scheduler's warnings and errors, one line each on standard error, written at once:
/// <c>HH:mm:ss.fff warn: message</c> (UTC, the clock <see cref="RunPrinter"/> prints). Only the
/// exception's message is added, never its stack trace. A console logger of
/// Microsoft.Extensions.Logging cost 7–17 ms of every <c>cascade run</c>'s start-up (its options,
/// formatters and queue thread) for the same lines; see docs/performance.md.
/// </summary>
internal sealed class ConsoleLog(LogLevel minimum = LogLevel.Warning) : ILogger
{
    private static readonly Lock Gate = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var message = formatter(state, exception);
        if (exception is not null && !message.Contains(exception.Message, StringComparison.Ordinal))
        {
            message = $"{message}: {exception.Message}";
        }

        var line = $"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} {Label(logLevel)}: {message}";
        lock (Gate)
        {
            Console.Error.WriteLine(line);
        }
    }

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.Critical => "crit",
        LogLevel.Error => "fail",
        LogLevel.Warning => "warn",
        LogLevel.Information => "info",
        _ => "dbug",
    };
}
