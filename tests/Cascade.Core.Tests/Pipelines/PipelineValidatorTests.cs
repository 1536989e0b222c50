using Cascade.Core.Pipelines;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Pipelines;

public sealed class PipelineValidatorTests
{
    private static List<string> Errors(params JobDefinition[] jobs)
    {
        var errors = PipelineValidator.Validate(Definition(jobs));
        var result = Pipeline.Create(Definition(jobs));
        Assert.Equal(errors.Count == 0, result.IsValid);
        Assert.Equal(errors.Count, result.Errors.Count);
        return [.. errors.Select(e => e.Message)];
    }

    private static string SingleError(params JobDefinition[] jobs) => Assert.Single(Errors(jobs));

    [Fact]
    public void The_example_pipeline_of_the_spec_is_valid()
    {
        var errors = Errors(
            Job("player_entry") with { Start = Date("2019-03-01") },
            Job("sessions", "player_entry"),
            Hourly("payments"),
            Job("revenue") with { After = [Dep("player_entry"), Dep("payments"), Dep("revenue", -1)] },
            Job("bi_import", "revenue", "sessions"));

        Assert.Empty(errors);
    }

    [Fact]
    public void An_empty_pipeline_is_an_error()
    {
        Assert.Contains("no jobs", SingleError(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Upper", "is not valid")]
    [InlineData("-x", "is not valid")]
    [InlineData("_x", "is not valid")]
    [InlineData("a b", "is not valid")]
    [InlineData("a.b", "is not valid")]
    [InlineData("", "is not valid")]
    [InlineData("a__b", "must not contain '__'")]
    public void Bad_job_names_are_errors(string name, string problem)
    {
        var message = SingleError(Job(name));

        Assert.Contains($"'{name}'", message, StringComparison.Ordinal);
        Assert.Contains(problem, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("player_entry")]
    [InlineData("bi-import2")]
    [InlineData("x_")]
    public void Good_job_names_are_accepted(string name)
    {
        Assert.True(JobName.IsValid(name));
        Assert.Empty(Errors(Job(name)));
    }

    [Fact]
    public void A_job_name_longer_than_128_characters_is_invalid()
    {
        Assert.True(JobName.IsValid(new string('a', 128)));
        Assert.False(JobName.IsValid(new string('a', 129)));
    }

    [Fact]
    public void A_job_defined_twice_is_an_error()
    {
        Assert.Contains("defined twice", SingleError(Job("a"), Job("a")), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_after_target_is_an_error_with_a_did_you_mean()
    {
        var message = SingleError(Job("sessions"), Job("revenue", "sesions"));

        Assert.Contains("job 'revenue' is after unknown job 'sesions'", message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'sessions'?", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_after_target_far_from_every_name_has_no_suggestion()
    {
        var message = SingleError(Job("sessions"), Job("revenue", "payments"));

        Assert.Contains("unknown job 'payments'", message, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Self_dependency_without_a_negative_offset_is_an_error(int offset)
    {
        var message = SingleError(Job("revenue") with { After = [Dep("revenue", offset)] });

        Assert.Contains("depends on itself", message, StringComparison.Ordinal);
        Assert.Contains("negative offset", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_dependency_on_the_previous_partition_is_valid()
    {
        Assert.Empty(Errors(Job("a"), Job("revenue") with { After = [Dep("a"), Dep("revenue", -1)] }));
    }

    [Fact]
    public void Duplicate_after_entries_are_an_error()
    {
        var message = SingleError(Job("a"), Job("b", "a", "a"));

        Assert.Contains("lists 'a' twice", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_job_at_two_offsets_is_not_a_duplicate()
    {
        Assert.Empty(Errors(Job("a"), Job("b") with { After = [Dep("a"), Dep("a", -1)] }));
    }

    [Fact]
    public void A_two_job_cycle_is_printed_as_a_path()
    {
        var message = SingleError(Job("a", "b"), Job("b", "a"));

        Assert.Contains("cycle: a -> b -> a", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_three_job_cycle_is_printed_as_a_path_that_closes()
    {
        var message = SingleError(Job("root"), Job("a", "root", "c"), Job("b", "a"), Job("c", "b"));

        Assert.Contains("cycle: a -> b -> c -> a", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_broken_by_a_negative_offset_is_valid()
    {
        Assert.Empty(Errors(Job("root"), Job("a") with { After = [Dep("root"), Dep("b", -1)] }, Job("b", "a")));
    }

    // Regression (found while writing these tests): FindCycles only followed edges with offset >= 0,
    // so a cycle whose offsets add up to zero or more was accepted. Here a(d) needs b(d+1) and
    // b(d+1) needs a(d): a deadlock on every partition.
    [Fact]
    public void Cycle_through_a_positive_offset_that_never_goes_back_in_time_is_rejected()
    {
        var errors = Errors(
            Job("root"),
            Job("a") with { After = [Dep("root"), Dep("b", 1)] },
            Job("b") with { After = [Dep("a", -1)] });

        Assert.True(errors.Count > 0, "BUG: a(d) after b(d+1) and b(d+1) after a(d) deadlock on every partition, but the validator found no error");
    }

    [Fact]
    public void Unknown_placeholder_in_a_command_is_an_error_listing_the_known_ones()
    {
        var message = SingleError(Job("a") with { Run = new RunSpec.Command(["./run.sh", "{dat}"]) });

        Assert.Contains("unknown placeholder '{dat}'", message, StringComparison.Ordinal);
        Assert.Contains("{date}", message, StringComparison.Ordinal);
        Assert.Contains("{params.NAME}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Params_placeholders_are_not_unknown()
    {
        Assert.Empty(Errors(Job("a") with { Run = new RunSpec.Command(["./run.sh", "{params.region}"]) }));
    }

    [Theory]
    [InlineData()]
    [InlineData(" ")]
    public void A_command_without_a_program_is_an_error(params string[] argv)
    {
        Assert.Contains("must name a program", SingleError(Job("a") with { Run = new RunSpec.Command(argv) }), StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_retries_are_an_error()
    {
        var message = SingleError(Job("a") with { Retries = -1 });

        Assert.Contains("retries must be 0 or more", message, StringComparison.Ordinal);
        Assert.Contains("-1", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_retry_backoff_is_an_error()
    {
        Assert.Contains("retry_backoff must not be negative", SingleError(Job("a") with { RetryBackoff = TimeSpan.FromSeconds(-1) }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Max_parallel_below_one_is_an_error(int maxParallel)
    {
        Assert.Contains("max_parallel must be 1 or more", SingleError(Job("a") with { MaxParallel = maxParallel }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_default_param_name_is_an_error()
    {
        Assert.Contains("param name 'my param' is not valid", SingleError(Job("a") with { Params = Map(("my param", "x")) }), StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_name_the_file_and_the_position_of_what_is_wrong()
    {
        var at = new SourceLocation(12, 7);
        var errors = PipelineValidator.Validate(Definition(Job("a"), Job("b") with { After = [new Dependency("x", 0, at)] }));

        var error = Assert.Single(errors);
        Assert.Equal(SourcePath, error.File);
        Assert.Equal(at, error.Location);
        Assert.StartsWith("cascade.yaml:12:7: job 'b' is after unknown job 'x'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_not_only_the_first()
    {
        var errors = Errors(Job("Bad"), Job("b", "nope") with { Retries = -1, MaxParallel = 0 });

        Assert.Equal(4, errors.Count);
    }
}
