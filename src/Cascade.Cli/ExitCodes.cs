using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Cascade.Cli;

/// <summary>
/// The exit codes of every command, one scheme (README "Exit codes"; printed under every <c>--help</c>).
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A run the command ran or followed ended broken, or the command was refused (an error on stderr).</summary>
    public const int RunBroke = 1;

    /// <summary>The command line does not parse: unknown command or option, missing or mistyped value.</summary>
    public const int Usage = 2;

    /// <summary>An internal error (a bug: please report it).</summary>
    public const int Internal = 70;

    /// <summary>Interrupted (SIGINT/SIGTERM, Ctrl-C) before the command finished.</summary>
    public const int Interrupted = 130;

    public const string Help = """
        Exit codes (every command):
          0    done: nothing it ran broke
          1    a run it ran or followed ended failed, timed_out or upstream_failed
               (run --until-idle, backfill), or the command was refused (error: … on stderr)
          2    bad usage: unknown command or option, missing or mistyped value
          70   internal error (please report it)
          130  interrupted by a signal before it finished (run --until-idle, backfill, logs --follow)
        """;

    /// <summary>Adds the table under the help of every command, and maps parse errors to <see cref="Usage"/>.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, InvocationConfiguration configuration)
    {
        if (root.Options.OfType<HelpOption>().FirstOrDefault() is { Action: HelpAction help } option)
        {
            option.Action = new WithExitCodes(help);
        }

        var parse = root.Parse(args);
        var code = await parse.InvokeAsync(configuration);
        return parse.Errors.Count > 0 && code == 1 ? Usage : code;
    }

    private sealed class WithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var code = inner.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(Help);
            return code;
        }
    }
}
