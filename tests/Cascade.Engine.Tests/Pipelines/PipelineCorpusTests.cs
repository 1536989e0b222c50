using System.Text;
using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;
using CsCheck;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary>
/// Issue 8, item 11 and done-when 1: no pipeline text makes the loader throw. Every file of the
/// corpus (Pipelines/Corpus) and every mutation of the shipped examples — truncated at each line,
/// each bracket deleted or doubled, random bytes and odd Unicode inserted — gives either a valid
/// pipeline or errors that each carry <c>file:line:column</c> on one line.
/// </summary>
public sealed partial class PipelineCorpusTests
{
    private const string Shown = "fuzz.yaml";

    private static readonly string[] OddText =
    [
        "\u2028", "\u2029", "\u0085", "\uFEFF", "\0", "\t", "\r", "\u202E", "\u0301", "\U0001F600", "\u0663", "\uFFFD",
        "\ud800", "[", "]", "{", "}", "&a ", "*a", "!!map ", "? ", ": ", "- ", "'", "\"", "#", "|", ">", "%", "@", "`", "\\",
    ];

    [GeneratedRegex(@"^fuzz\.yaml:[0-9]+:[0-9]+: \S")]
    private static partial Regex Located();

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Pipelines", "Corpus"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    /// <summary>Loads the text; fails naming the input if the loader throws or an error is not located.</summary>
    internal static void AssertValidOrLocated(string text, string what)
    {
        PipelineResult result;
        try
        {
            result = PipelineLoader.Load(text, Shown);
        }
#pragma warning disable CA1031 // the assertion is exactly that nothing is thrown
        catch (Exception e)
#pragma warning restore CA1031
        {
            Assert.Fail($"{what}: the loader threw {e.GetType().Name}: {e.Message}\n--- input ---\n{Shorten(text)}");
            return;
        }

        if (result.IsValid)
        {
            return;
        }

        Assert.NotEmpty(result.Errors);
        foreach (var error in result.Errors)
        {
            var line = error.ToString();
            Assert.True(Located().IsMatch(line) && !line.Contains('\n', StringComparison.Ordinal), $"{what}: an error without file:line:column (or on two lines): {line}\n--- input ---\n{Shorten(text)}");
        }
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Regression_8_11_every_file_of_the_broken_yaml_corpus_gives_a_pipeline_or_located_errors(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Pipelines", "Corpus", file));
        AssertValidOrLocated(new UTF8Encoding(false, false).GetString(bytes), file);
    }

    public static TheoryData<string> Examples() => ["demo", "nightly", "s3"];

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_truncation_of_a_shipped_example_at_a_line_or_inside_it_gives_a_pipeline_or_located_errors(string example)
    {
        var text = Example(example);
        var lines = text.Split('\n');
        for (var i = 0; i <= lines.Length; i++)
        {
            var head = string.Join('\n', lines.Take(i));
            AssertValidOrLocated(head, $"{example} cut after line {i}");
            if (i < lines.Length && lines[i].Length > 1)
            {
                AssertValidOrLocated(head + (i > 0 ? "\n" : "") + lines[i][..(lines[i].Length / 2)], $"{example} cut inside line {i + 1}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_bracket_of_a_shipped_example_deleted_or_doubled_gives_a_pipeline_or_located_errors(string example)
    {
        var text = Example(example);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '[' or ']' or '{' or '}' or '"' or '\'' or ':' or ',')
            {
                AssertValidOrLocated(text.Remove(i, 1), $"{example} without the '{text[i]}' at {i}");
                AssertValidOrLocated(text.Insert(i, text[i].ToString()), $"{example} with the '{text[i]}' at {i} doubled");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Random_bytes_and_odd_unicode_in_a_shipped_example_give_a_pipeline_or_located_errors(string example)
    {
        var text = Example(example);
        var odd = Gen.Int[0, OddText.Length - 1].Select(i => OddText[i]);
        var anyChar = Gen.Char.Select(c => c.ToString());
        var insert = Gen.Select(Gen.Int[0, text.Length], Gen.Frequency((3, odd), (1, anyChar)), Gen.Int[0, 3]);
        var edits = insert.Array[1, 6];
        edits.Sample(
            list =>
            {
                var mutated = text;
                foreach (var (at, piece, deleted) in list)
                {
                    var pos = Math.Min(at, mutated.Length);
                    mutated = mutated.Remove(pos, Math.Min(deleted, mutated.Length - pos)).Insert(pos, piece);
                }

                AssertValidOrLocated(mutated, $"{example} mutated");
            },
            iter: 2000);
    }

    [Fact]
    public void Random_byte_strings_give_a_pipeline_or_located_errors()
    {
        Gen.Byte.Array[0, 400].Sample(
            bytes => AssertValidOrLocated(new UTF8Encoding(false, false).GetString(bytes), "random bytes"),
            iter: 2000);
    }

    private static string Example(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "examples", name, "cascade.yaml");
            if (File.Exists(Path.Combine(dir.FullName, "Cascade.slnx")) && File.Exists(path))
            {
                return File.ReadAllText(path);
            }
        }

        throw new InvalidOperationException($"examples/{name}/cascade.yaml not found above {AppContext.BaseDirectory}");
    }

    private static string Shorten(string text) => text.Length > 2000 ? text[..2000] + "…" : text;
}
