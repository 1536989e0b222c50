using Cascade.Core.Pipelines;

namespace Cascade.Core.Tests.Pipelines;

public sealed class DidYouMeanTests
{
    [Theory]
    [InlineData("sesions", "sessions")]
    [InlineData("bi_imprt.sh", "bi_import.sh")]
    [InlineData("revenu", "revenue")]
    [InlineData("zzzzzzz", null)]
    public void The_closest_candidate_within_two_edits_is_suggested(string name, string? expected) =>
        Assert.Equal(expected, DidYouMean.Closest(name, ["sessions", "revenue", "bi_import.sh", "revenue2"]));

    [Fact]
    public void The_nearest_wins_and_a_tie_goes_to_the_first_in_ordinal_order()
    {
        Assert.Equal("abcd", DidYouMean.Closest("abcd", ["abce", "abcd"]));
        Assert.Equal("abca", DidYouMean.Closest("abcx", ["abcb", "abca"]));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("a", "", 1)]
    public void Distance_counts_insertions_deletions_and_substitutions(string a, string b, int expected) =>
        Assert.Equal(expected, DidYouMean.Distance(a, b));
}
