using System.Text.Json;
using Cascade.Engine.Alerts.Slack;
using Cascade.Engine.Alerts.Webhook;

namespace Cascade.Engine.Tests;

/// <summary>
/// The engine's JSON goes through the source-generated <see cref="EngineJson"/> (Native AOT has
/// no reflection). Its output must stay byte for byte what the reflection-based serializer with
/// default options wrote before: state rows, requests and <c>CASCADE_PARAMS</c> already written
/// are read back, jobs parse <c>CASCADE_PARAMS</c>, receivers parse the alert bodies.
/// </summary>
public sealed class EngineJsonTests
{
    // Escaping is where serializers differ: non-ASCII, HTML-sensitive characters, quotes,
    // backslashes, control characters and a surrogate pair.
    private const string Tricky = "café <b>&'+\" \\ \t\n\u0001 😀 /";

    private static readonly SortedDictionary<string, string> Params = new(StringComparer.Ordinal)
    {
        ["region"] = "eu",
        ["note"] = Tricky,
        ["zé"] = "",
    };

    private static readonly List<string> Warnings = ["marker body is not valid JSON; ignored", Tricky];

    [Fact]
    public void Params_and_warnings_are_written_as_the_default_serializer_wrote_them()
    {
        IReadOnlyDictionary<string, string> prms = Params;
        IReadOnlyList<string> warnings = Warnings;

        Assert.Equal(JsonSerializer.Serialize(prms), JsonSerializer.Serialize(prms, EngineJson.Default.IReadOnlyDictionaryStringString));
        Assert.Equal(JsonSerializer.Serialize(warnings), JsonSerializer.Serialize(warnings, EngineJson.Default.IReadOnlyListString));
        Assert.Equal(
            """{"note":"caf\u00E9 \u003Cb\u003E\u0026\u0027\u002B\u0022 \\ \t\n\u0001 \uD83D\uDE00 /","region":"eu","z\u00E9":""}""",
            JsonSerializer.Serialize(prms, EngineJson.Default.IReadOnlyDictionaryStringString));
    }

    [Fact]
    public void Params_and_warnings_read_back_what_was_written()
    {
        var prms = JsonSerializer.Deserialize(JsonSerializer.Serialize(Params, EngineJson.Default.IReadOnlyDictionaryStringString), EngineJson.Default.DictionaryStringString);
        var warnings = JsonSerializer.Deserialize(JsonSerializer.Serialize(Warnings, EngineJson.Default.IReadOnlyListString), EngineJson.Default.ListString);

        Assert.Equal(Params, new SortedDictionary<string, string>(prms!, StringComparer.Ordinal));
        Assert.Equal(Warnings, warnings);
    }

    [Fact]
    public void Rows_written_by_the_reflection_based_serializer_still_read()
    {
        var old = JsonSerializer.Serialize<IReadOnlyDictionary<string, string>>(Params);

        Assert.Equal(Params, new SortedDictionary<string, string>(JsonSerializer.Deserialize(old, EngineJson.Default.DictionaryStringString)!, StringComparer.Ordinal));
    }

    [Fact]
    public void Alert_bodies_are_written_as_the_default_serializer_wrote_them_with_null_kept_and_snake_case_names()
    {
        var slack = new SlackMessage(Tricky);
        var webhook = new WebhookDocument(1, "timeout", "pipe", "join", "20190312", "2019-03-12T06:00:00.000Z", "title " + Tricky, "summary", ["b__20190312.done"], [], 1, null, "cascade why join 20190312");

        Assert.Equal(JsonSerializer.Serialize(slack), JsonSerializer.Serialize(slack, EngineJson.Default.SlackMessage));
        Assert.Equal(JsonSerializer.Serialize(webhook), JsonSerializer.Serialize(webhook, EngineJson.Default.WebhookDocument));
        Assert.Equal(
            """{"version":1,"event":"timeout","pipeline":"pipe","job":"join","partition":"20190312","at":"2019-03-12T06:00:00.000Z","title":"title caf\u00E9 \u003Cb\u003E\u0026\u0027\u002B\u0022 \\ \t\n\u0001 \uD83D\uDE00 /","summary":"summary","missing_inputs":["b__20190312.done"],"broken_downstream":[],"attempt":1,"exit_code":null,"why":"cascade why join 20190312"}""",
            JsonSerializer.Serialize(webhook, EngineJson.Default.WebhookDocument));
    }
}
