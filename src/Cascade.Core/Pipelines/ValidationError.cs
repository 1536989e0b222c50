using System.Globalization;
using System.Text;

namespace Cascade.Core.Pipelines;

/// <summary>
/// A problem in a pipeline file, printed as one line <c>file:line:column: message</c>: control
/// characters and line separators in it (from names the user wrote) are shown escaped.
/// </summary>
public sealed record ValidationError(string File, SourceLocation Location, string Message)
{
    public override string ToString() =>
        Location.Line > 0 ? $"{OneLine(File)}:{Location.Line}:{Location.Column}: {OneLine(Message)}" : $"{OneLine(File)}: {OneLine(Message)}";

    /// <summary>The text with <c>\n</c>, <c>\t</c>, NUL, U+2028 and other control or separator characters escaped.</summary>
    public static string OneLine(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when NeedsEscape(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
