using Cascade.Engine.State;

namespace Cascade.Cli;

/// <summary>Runs a command body and turns user errors into one line on stderr and exit code 1.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync(e.Raw ? e.Message : "error: " + e.Message);
            return e.ExitCode;
        }
        catch (Engine.Requests.RequestRefusedException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
        catch (StateStoreException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The environment refused (permissions, a full disk, a path too long): the user's to fix, not a bug.
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled");
            return ExitCodes.Interrupted;
        }
#pragma warning disable CA1031 // the last line of defence: a bug gets a report, not a bare crash
        catch (Exception e)
#pragma warning restore CA1031
        {
            // One line for the user; the stack trace goes to a report file, never to the terminal.
            await Console.Error.WriteLineAsync($"internal error (please report it): {e.GetType().Name}: {e.Message}{InternalErrorReport.Write(e)}");
            return ExitCodes.Internal;
        }
    }
}
