namespace Cascade.Cli;

/// <summary>
/// Where a bug's details go: a file in the temporary folder, named on the one line the user sees.
/// A stack trace is for the report, never for the terminal.
/// </summary>
internal static class InternalErrorReport
{
    /// <summary>Writes the report; returns " (details: PATH)", or "" when even that fails.</summary>
    public static string Write(Exception e)
    {
        try
        {
            var path = Path.Combine(Path.GetTempPath(), $"cascade-internal-error-{Environment.ProcessId}.txt");
            File.WriteAllText(path, $"cascade {typeof(InternalErrorReport).Assembly.GetName().Version}\n{string.Join(' ', Environment.GetCommandLineArgs())}\n\n{e}\n");
            return $" (details: {path})";
        }
#pragma warning disable CA1031 // the report is best effort: the one-line message is what matters
        catch (Exception)
#pragma warning restore CA1031
        {
            return "";
        }
    }
}
