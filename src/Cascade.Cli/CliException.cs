namespace Cascade.Cli;

/// <summary>
/// A user error: printed to stderr (as <c>error: …</c> unless <see cref="Raw"/>), exit code 1, no
/// stack trace.
/// </summary>
internal sealed class CliException(string message, int exitCode = 1, bool raw = false) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The message is already formatted (e.g. file:line:column lines).</summary>
    public bool Raw { get; } = raw;
}
