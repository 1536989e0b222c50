using Cascade.Core.Pipelines;
using Cascade.Core.Tests.Support;

namespace Cascade.Core.Tests.Pipelines;

public sealed class PlaceholderTests
{
    private static readonly IReadOnlyDictionary<string, string> NoParams = Build.Map();

    [Fact]
    public void Built_ins_of_a_daily_run_have_an_empty_hour()
    {
        var values = Placeholders.BuiltIns(Build.Key("sessions", "20190312"), "sessions__20190312__g1a1");

        Assert.Equal("sessions", values["job"]);
        Assert.Equal("20190312", values["partition"]);
        Assert.Equal("2019-03-12", values["date"]);
        Assert.Equal("2019", values["year"]);
        Assert.Equal("03", values["month"]);
        Assert.Equal("12", values["day"]);
        Assert.Equal(string.Empty, values["hour"]);
        Assert.Equal("sessions__20190312__g1a1", values["run_id"]);
        Assert.Equal(Placeholders.Names.Order(), values.Keys.Order());
    }

    [Fact]
    public void Built_ins_of_an_hourly_run_have_a_zero_padded_hour()
    {
        var values = Placeholders.BuiltIns(Build.Key("payments", "2019010105"), "r");

        Assert.Equal("05", values["hour"]);
        Assert.Equal("01", values["month"]);
        Assert.Equal("01", values["day"]);
        Assert.Equal("2019010105", values["partition"]);
    }

    [Fact]
    public void TryRender_substitutes_built_ins_and_params_inside_one_argument()
    {
        var values = Placeholders.BuiltIns(Build.Key("payments", "2019031207"), "r1");

        var ok = Placeholders.TryRender("--at={date}T{hour}:00/{params.region}/{job}", values, Build.Map(("region", "eu")), out var result, out var missing);

        Assert.True(ok);
        Assert.Empty(missing);
        Assert.Equal("--at=2019-03-12T07:00/eu/payments", result);
    }

    [Fact]
    public void Text_without_placeholders_is_left_alone()
    {
        Assert.True(Placeholders.TryRender("plain; $(rm -rf /) {not a placeholder}", NoParams, NoParams, out var result, out _));
        Assert.Equal("plain; $(rm -rf /) {not a placeholder}", result);
    }

    [Fact]
    public void Values_are_inserted_as_text_and_never_expanded_again()
    {
        var values = Placeholders.BuiltIns(Build.Key("a", "20190312"), "r");

        Assert.True(Placeholders.TryRender("{params.x}", values, Build.Map(("x", "{job} $(id)")), out var result, out _));
        Assert.Equal("{job} $(id)", result);
    }

    [Fact]
    public void Missing_values_are_reported_by_name()
    {
        var values = Placeholders.BuiltIns(Build.Key("a", "20190312"), "r");

        var ok = Placeholders.TryRender("{params.region}-{day}-{params.tier}-{nope}", values, Build.Map(("tier", "gold")), out _, out var missing);

        Assert.False(ok);
        Assert.Equal(["params.region", "nope"], missing);
    }

    [Fact]
    public void A_param_named_like_a_built_in_does_not_replace_the_built_in()
    {
        var values = Placeholders.BuiltIns(Build.Key("a", "20190312"), "r");

        Assert.True(Placeholders.TryRender("{job}/{params.job}", values, Build.Map(("job", "other")), out var result, out _));
        Assert.Equal("a/other", result);
    }

    [Theory]
    [InlineData("{dat}", "dat")]
    [InlineData("{Date}", "Date")]
    [InlineData("{run-id}", "run-id")]
    [InlineData("{params.}", "params.")]
    [InlineData("{param.region}", "param.region")]
    [InlineData("x{partiton}y{date}", "partiton")]
    public void Unknown_finds_typos(string template, string unknown)
    {
        Assert.Equal([unknown], Placeholders.Unknown(template));
    }

    [Theory]
    [InlineData("{job}{partition}{date}{year}{month}{day}{hour}{run_id}")]
    [InlineData("{params.region}")]
    [InlineData("--flag")]
    [InlineData("{ job }")]
    public void Unknown_accepts_built_ins_params_and_plain_text(string template)
    {
        Assert.Empty(Placeholders.Unknown(template));
    }
}
