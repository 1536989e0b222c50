using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

public sealed class PipelineLoaderTests
{
    private static IReadOnlyList<ValidationError> Errors(string yaml)
    {
        var result = PipelineLoader.Load(yaml, "cascade.yaml");
        Assert.False(result.IsValid);
        return result.Errors;
    }

    private static ValidationError Single(string yaml, string contains)
    {
        var errors = Errors(yaml);
        var error = Assert.Single(errors, e => e.Message.Contains(contains, StringComparison.Ordinal));
        return error;
    }

    [Fact]
    public void A_full_pipeline_loads_with_defaults_applied()
    {
        var result = PipelineLoader.Load("""
            timezone: Europe/Berlin
            markers:
              folder: ./done
              layout: "{partition}/{job}.done"
            defaults:
              retries: 2
              retry_backoff: 1m
            jobs:
              a:
                start: 2019-03-01
                params: { region: eu }
                run: { command: [echo, "{date}"] }
              b:
                grain: hourly
                after: [a, { job: a, offset: -1 }]
                retries: 0
                max_parallel: 3
                run: external
            """, "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var p = result.Pipeline!;
        Assert.Equal("./done", p.Definition.MarkerFolder);
        Assert.Equal("{partition}/{job}.done", p.Definition.Layout.Pattern);
        Assert.Equal(2, p["a"].Retries);
        Assert.Equal(TimeSpan.FromMinutes(1), p["a"].RetryBackoff);
        Assert.Equal(0, p["b"].Retries);
        Assert.Equal(3, p["b"].MaxParallel);
        Assert.Equal(Grain.Hourly, p["b"].Grain);
        Assert.IsType<RunSpec.External>(p["b"].Run);
        Assert.Equal(["echo", "{date}"], ((RunSpec.Command)p["a"].Run).Argv);
        Assert.Equal(new DateOnly(2019, 3, 1), p.EffectiveStart("b"));
        Assert.Equal(-1, p["b"].After[1].Offset);
    }

    [Fact]
    public void Regression_a_cron_schedule_with_H_is_a_located_error_not_a_crash()
    {
        // Found by the pipeline fuzz test (seed 1CGtxHLbdpS2): Cronos threw MissingSeedException
        // out of the loader for a schedule with H in it.
        var error = Single("""
            jobs:
              extract:
                schedule: "0 H * * *"
                run: { command: [true] }
            """, "uses H (a hashed value)");

        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void Broken_yaml_reports_the_line()
    {
        var errors = Errors("jobs:\n  a:\n    run: [unclosed\n");
        var error = Assert.Single(errors);
        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line >= 3, error.ToString());
        Assert.StartsWith("cascade.yaml:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_after_target_names_its_line_and_a_suggestion()
    {
        var error = Single("""
            jobs:
              sessions:
                run: external
              revenue:
                after:
                  - sesions
                run: external
            """, "unknown job 'sesions'");
        Assert.Equal(6, error.Location.Line);
        Assert.Contains("did you mean 'sessions'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_prints_its_path()
    {
        var error = Single("""
            jobs:
              a:
                after: [c]
                run: external
              b:
                after: [a]
                run: external
              c:
                after: [b]
                run: external
            """, "cycle");
        // In the direction data flows: b runs after a, c after b, a after c.
        Assert.Contains("cycle: a -> b -> c -> a", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Location.Line); // at the job the cycle starts from
    }

    [Theory]
    [InlineData("retry_backoff: 5x", "'retry_backoff': '5x' is not a duration", 4)]
    [InlineData("retries: many", "'retries' must be a whole number", 4)]
    [InlineData("grain: weekly", "grain 'weekly' is not daily or hourly", 4)]
    [InlineData("start: 2019-02-30", "start '2019-02-30' is not a date", 4)]
    [InlineData("afer: [x]", "unknown key 'afer'", 4)]
    public void Bad_values_name_the_key_and_line(string line, string message, int expectedLine)
    {
        var error = Single($"""
            jobs:
              a:
                run: external
                {line}
            """, message);
        Assert.Equal(expectedLine, error.Location.Line);
    }

    [Fact]
    public void A_missing_run_is_an_error_at_the_job()
    {
        var error = Single("jobs:\n  a:\n    grain: daily\n", "has no 'run'");
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public void A_command_given_as_a_string_is_refused_because_no_shell_splits_it()
    {
        Single("jobs:\n  a:\n    run: { command: \"echo hi\" }\n", "must be a list of arguments");
    }

    [Theory]
    [InlineData("Bad", "is not valid")]
    [InlineData("a__b", "must not contain '__'")]
    public void Bad_job_names_are_refused(string name, string message)
    {
        var error = Single($"jobs:\n  {name}:\n    run: external\n", message);
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public void A_bad_layout_and_time_zone_are_refused()
    {
        var errors = Errors("timezone: Mars/Olympus\nmarkers:\n  layout: \"{job}.done\"\njobs:\n  a:\n    run: external\n");
        Assert.Contains(errors, e => e.Message.Contains("unknown time zone 'Mars/Olympus'", StringComparison.Ordinal) && e.Location.Line == 1);
        Assert.Contains(errors, e => e.Message.Contains("{partition}", StringComparison.Ordinal) && e.Location.Line == 3);
    }

    [Fact]
    public void An_unknown_placeholder_is_refused()
    {
        Single("jobs:\n  a:\n    run: { command: [echo, \"{dat}\"] }\n", "unknown placeholder '{dat}'");
    }

    [Fact]
    public void A_missing_file_says_how_to_make_one()
    {
        var result = PipelineLoader.LoadFile(Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N"), "cascade.yaml"));
        Assert.Contains("cascade init", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }
}
