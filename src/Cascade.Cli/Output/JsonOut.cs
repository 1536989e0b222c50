using System.Text.Json;

namespace Cascade.Cli.Output;

/// <summary>Writes one JSON document to stdout, indented, with a final newline: what every <c>--json</c> prints.</summary>
internal static class JsonOut
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            write(w);
        }

        stdout.WriteByte((byte)'\n');
    }
}
