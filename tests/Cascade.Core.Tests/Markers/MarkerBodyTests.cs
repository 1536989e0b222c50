using System.Text;
using System.Text.Json;
using Cascade.Core.Markers;

namespace Cascade.Core.Tests.Markers;

public sealed class MarkerBodyTests
{
    [Theory]
    [InlineData("")]
    [InlineData("  \n\t\r\n")]
    public void Empty_body_has_no_params_meta_or_warning(string text)
    {
        var body = MarkerBody.Parse(text);

        Assert.Empty(body.Params);
        Assert.Empty(body.Meta);
        Assert.Null(body.Warning);
        Assert.Equal(string.Empty, body.ToJson());
    }

    [Fact]
    public void Params_are_passed_on_and_every_other_key_is_metadata()
    {
        var body = MarkerBody.Parse("""{"rows": 1200, "source": "s3://b/k", "params": {"region": "eu", "tier": "gold"}}""");

        Assert.Null(body.Warning);
        Assert.Equal(["region", "tier"], body.Params.Keys);
        Assert.Equal("eu", body.Params["region"]);
        Assert.Equal("gold", body.Params["tier"]);
        Assert.Equal(["rows", "source"], body.Meta.Keys);
        Assert.Equal(1200, body.Meta["rows"].GetInt32());
        Assert.Equal("s3://b/k", body.Meta["source"].GetString());
    }

    [Fact]
    public void Numbers_and_booleans_in_params_become_their_json_text()
    {
        var body = MarkerBody.Parse("""{"params": {"n": 42, "x": 1.5, "ok": true, "no": false}}""");

        Assert.Null(body.Warning);
        Assert.Equal("42", body.Params["n"]);
        Assert.Equal("1.5", body.Params["x"]);
        Assert.Equal("true", body.Params["ok"]);
        Assert.Equal("false", body.Params["no"]);
    }

    [Theory]
    [InlineData("""{"params": {"a": null}}""", "param 'a' must be a string")]
    [InlineData("""{"params": {"a": [1]}}""", "param 'a' must be a string")]
    [InlineData("""{"params": {"a": {"b": "c"}}}""", "param 'a' must be a string")]
    [InlineData("""{"params": {"9lives": "x"}}""", "param name '9lives' is not a valid name")]
    [InlineData("""{"params": {"a b": "x"}}""", "param name 'a b' is not a valid name")]
    [InlineData("""{"params": "region=eu"}""", "'params' must be an object of strings")]
    public void Params_that_are_not_strings_or_not_names_are_dropped_with_a_warning(string json, string warning)
    {
        var body = MarkerBody.Parse(json);

        Assert.Empty(body.Params);
        Assert.Contains(warning, body.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_params_are_kept_next_to_a_bad_one()
    {
        var body = MarkerBody.Parse("""{"params": {"a": "1", "b": null, "c": "3"}}""");

        Assert.Equal(["a", "c"], body.Params.Keys);
        Assert.Contains("param 'b'", body.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"a\": 1,}")]
    [InlineData("done")]
    public void Invalid_json_is_a_warning_not_an_error(string text)
    {
        var body = MarkerBody.Parse(text);

        Assert.Contains("not valid JSON", body.Warning, StringComparison.Ordinal);
        Assert.Empty(body.Params);
        Assert.Empty(body.Meta);
    }

    [Theory]
    [InlineData("[1, 2]", "Array")]
    [InlineData("\"done\"", "String")]
    [InlineData("42", "Number")]
    [InlineData("null", "Null")]
    public void A_body_that_is_not_an_object_is_a_warning(string text, string kind)
    {
        var body = MarkerBody.Parse(text);

        Assert.Contains($"must be a JSON object, not {kind}", body.Warning, StringComparison.Ordinal);
        Assert.Empty(body.Params);
    }

    [Fact]
    public void A_body_over_64_KiB_is_a_warning_and_is_not_read()
    {
        var json = $$"""{"params": {"a": "b"}, "pad": "{{new string('x', MarkerBody.MaxBytes)}}"}""";
        var body = MarkerBody.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Contains("over the 65536 byte limit", body.Warning, StringComparison.Ordinal);
        Assert.Empty(body.Params);
        Assert.Empty(body.Meta);
    }

    [Fact]
    public void A_body_of_exactly_64_KiB_is_read()
    {
        const string prefix = "{\"params\": {\"a\": \"b\"}, \"pad\": \"";
        var json = prefix + new string('x', MarkerBody.MaxBytes - prefix.Length - 2) + "\"}";
        Assert.Equal(MarkerBody.MaxBytes, Encoding.UTF8.GetByteCount(json));

        var body = MarkerBody.Parse(json);

        Assert.Null(body.Warning);
        Assert.Equal("b", body.Params["a"]);
    }

    [Fact]
    public void ToJson_then_Parse_gives_the_same_params_and_metadata()
    {
        var body = MarkerBody.Parse("""{"rows": 3, "nested": {"x": [1, "two", null]}, "params": {"region": "eu \"west\"", "n": 7}}""");

        var back = MarkerBody.Parse(body.ToJson());

        Assert.Null(back.Warning);
        Assert.Equal(body.Params, back.Params);
        Assert.Equal(body.Meta.Keys, back.Meta.Keys);
        Assert.All(body.Meta, kv => Assert.True(JsonElement.DeepEquals(kv.Value, back.Meta[kv.Key]), kv.Key));
        Assert.Equal(body.ToJson(), back.ToJson());
    }

    [Fact]
    public void ToJson_of_params_only_is_an_object_with_params()
    {
        var body = new MarkerBody { Params = new Dictionary<string, string> { ["a"] = "1" } };

        using var doc = JsonDocument.Parse(body.ToJson());
        Assert.Equal("1", doc.RootElement.GetProperty("params").GetProperty("a").GetString());
    }

    [Theory]
    [InlineData("region", true)]
    [InlineData("_x", true)]
    [InlineData("a-b_9", true)]
    [InlineData("", false)]
    [InlineData("9a", false)]
    [InlineData("-a", false)]
    [InlineData("a.b", false)]
    [InlineData("a b", false)]
    public void Param_names_are_identifiers(string name, bool valid)
    {
        Assert.Equal(valid, MarkerBody.IsParamName(name));
    }

    [Theory]
    [InlineData("""{"params": {"a": "\ud800"}}""")]
    [InlineData("""{"meta": "\udc00x"}""")]
    [InlineData("""{"\ud800": 1}""")]
    public void Regression_8_08_a_body_with_a_lone_utf16_surrogate_is_a_warning_not_a_crash(string json)
    {
        var body = MarkerBody.Parse(json);

        Assert.Contains("not valid JSON text", body.Warning, StringComparison.Ordinal);
        Assert.Empty(body.Params);
        Assert.Equal(string.Empty, body.ToJson());
    }
}
