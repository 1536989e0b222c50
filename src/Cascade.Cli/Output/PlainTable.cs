namespace Cascade.Cli.Output;

/// <summary>
/// A table for pipes and files: whole values, columns padded with spaces, no colours and no
/// wrapping, so <c>cascade status | grep …</c> and <c>awk</c> work.
/// </summary>
internal static class PlainTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
