using System.CommandLine;
using System.Globalization;
using Cascade.Cli.Output;
using Cascade.Engine.State;

namespace Cascade.Cli.Commands;

/// <summary>
/// <c>cascade migrate</c>: brings the state's schema up to date by hand (ADR 21), for operators who
/// run it as the schema's owner and give <c>cascade run</c> a user without DDL rights. Every open
/// applies missing migrations anyway; this one says what it applied.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json("{\"state\", \"from\", \"version\", \"applied\": [{\"version\", \"description\"}]}");
        var command = new Command("migrate", "Apply the state database's schema migrations (every start applies them too); prints each one applied") { json };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var ws = Workspace.Load(parse.GetValue(CommonOptions.File)!);
            var result = await StateStores.MigrateAsync(ws.State, Environment.GetEnvironmentVariable, ct);
            if (parse.GetValue(json))
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("state", ws.StateShown);
                    w.WriteNumber("from", result.From);
                    w.WriteNumber("version", result.To);
                    w.WriteStartArray("applied");
                    foreach (var (version, description) in result.Applied)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("version", version);
                        w.WriteString("description", description);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return 0;
            }

            foreach (var (version, description) in result.Applied)
            {
                Console.WriteLine($"applied version {version.ToString(CultureInfo.InvariantCulture)}: {description}");
            }

            Console.WriteLine(result.Applied.Count == 0
                ? $"{ws.StateShown}: schema version {result.To.ToString(CultureInfo.InvariantCulture)}, current: nothing to apply"
                : $"{ws.StateShown}: schema version {result.From.ToString(CultureInfo.InvariantCulture)} → {result.To.ToString(CultureInfo.InvariantCulture)}");
            return 0;
        }));
        return command;
    }
}
