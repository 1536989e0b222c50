using System.Text;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Pipelines;
using CsCheck;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// Issue 8 (done-when 1, crash classes of item 8): marker names and bodies from anywhere — random
/// strings and bytes, near-misses of real names, random JSON, and the corpus in
/// <c>Properties/Corpus</c> — never throw: each is a key or a reason, a body or a warning.
/// </summary>
public sealed class MarkerFuzzTests
{
    private static readonly string CorpusDir = Path.Combine(AppContext.BaseDirectory, "Properties", "Corpus");

    private static readonly MarkerLayout[] Layouts =
    [
        MarkerLayout.Default,
        MarkerLayout.Parse("{partition}/{job}.done"),
        MarkerLayout.Parse("{job}/{partition}.done"),
        MarkerLayout.Parse("done/{job}-{partition}.done"),
        MarkerLayout.Parse("{job}.{partition}.done"),
    ];

    private static readonly Gen<string> Piece = Gen.OneOf(
        Gen.String,
        Gen.String[Gen.Char["abcz09_-"], 0, 12],
        Gen.String[Gen.Char["0123456789"], 0, 12],
        Gen.Const("__"), Gen.Const("/"), Gen.Const(".done"), Gen.Const("..") , Gen.Const("\u0000"), Gen.Const("\u2028"), Gen.Const("é"),
        Gen.OneOf<string>("00010101", "99991231", "9999123123", "20190229", "20190312", "2019031224", "00000000"));

    /// <summary>Names built from pieces of real names, so that many come close to parsing.</summary>
    private static readonly Gen<string> Name = Gen.OneOf(
        Gen.String,
        Piece.Array[1, 6].Select(parts => string.Concat(parts)),
        Gen.Select(Gen.String[Gen.Char["abz09_-"], 0, 10], Gen.OneOf<string>("__", "/", "_", "-", "."), Gen.String[Gen.Char["0123456789"], 0, 12], Gen.OneOf<string>(".done", ".done.tmp", "", "/x.done"))
            .Select((job, sep, partition, suffix) => job + sep + partition + suffix));

    private static readonly Gen<string> JsonText = Gen.Recursive<string>((depth, self) => depth > 4
        ? Scalar
        : Gen.OneOf(
            Scalar,
            self.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]"),
            Gen.Select(Key, self).Array[0, 5].Select(props => "{" + string.Join(",", props.Select(p => $"{p.Item1}:{p.Item2}")) + "}"),
            Gen.Select(Key, self).Array[0, 5].Select(props => "{\"params\":{" + string.Join(",", props.Select(p => $"{p.Item1}:{p.Item2}")) + "}}")));

    private static Gen<string> Scalar => Gen.OneOf(
        Gen.String.Select(s => JsonSerializer.Serialize(s)),
        Gen.OneOf<string>("null", "true", "false", "0", "-1.5e300", "1e999999", "\"\\ud800\"", "\"\\u0000\"", "\"x", "{", "]"),
        Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static Gen<string> Key => Gen.OneOf(Gen.String, Gen.OneOf<string>("params", "a", "bad name", "", "é", "\ud800")).Select(s => JsonSerializer.Serialize(s));

    [Fact]
    public void Any_name_under_any_layout_is_a_key_that_formats_back_or_a_reason()
    {
        Gen.Select(Name, Gen.Int[0, Layouts.Length - 1]).Sample((name, layout) => CheckName(Layouts[layout], name), iter: 10_000);
    }

    [Fact]
    public void Any_bytes_are_a_body_or_a_warning()
    {
        Gen.OneOf(Gen.Byte.Array[0, 300], Gen.Byte.Array[65_530, 65_540]).Sample(CheckBody, iter: 2_000);
    }

    [Fact]
    public void Any_json_is_a_body_or_a_warning_and_a_clean_body_survives_a_round_trip()
    {
        JsonText.Sample(text => CheckBody(Encoding.UTF8.GetBytes(text)), iter: 3_000);
    }

    public static TheoryData<string> CorpusNames() =>
        new(JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(CorpusDir, "marker-names.json")))!);

    public static TheoryData<string> CorpusBodies() =>
        new(Directory.EnumerateFiles(Path.Combine(CorpusDir, "marker-bodies")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void Every_corpus_name_under_every_layout_is_a_key_or_a_reason(string name)
    {
        foreach (var layout in Layouts)
        {
            CheckName(layout, name);
        }
    }

    [Theory]
    [MemberData(nameof(CorpusBodies))]
    public void Every_corpus_body_is_a_body_or_a_warning(string file)
    {
        CheckBody(File.ReadAllBytes(Path.Combine(CorpusDir, "marker-bodies", file)));
    }

    private static void CheckName(MarkerLayout layout, string name)
    {
        var result = layout.ParseName(name);
        if (result.Key is { } key)
        {
            Assert.Null(result.Error);
            Assert.True(JobName.IsValid(key.Job), $"'{name}' gave job '{key.Job}'");
            Assert.Equal(name, layout.Format(key));
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Error), $"'{name}' under '{layout.Pattern}': no key and no reason");
        }
    }

    private static void CheckBody(byte[] bytes)
    {
        var body = MarkerBody.Parse(bytes);
        Assert.True(body.Warning is null || body.Warning.Length > 0);
        Assert.All(body.Params.Keys, k => Assert.True(MarkerBody.IsParamName(k), $"param name '{k}' let through"));

        // Whatever was kept can be written out again and reads back the same.
        var again = MarkerBody.Parse(body.ToJson());
        Assert.Null(again.Warning);
        Assert.Equal(body.Params, again.Params);
        Assert.Equal(body.Meta.Keys, again.Meta.Keys);
    }
}
