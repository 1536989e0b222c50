using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.TimeRules;

/// <summary>SPEC §3: the time settings of <c>cascade.yaml</c> load, and bad ones are refused with file and line.</summary>
public sealed class TimeSettingsLoaderTests
{
    private static ValidationError SingleError(string yaml, string contains)
    {
        var result = PipelineLoader.Load(yaml, "cascade.yaml");
        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors, e => e.Message.Contains(contains, StringComparison.Ordinal));
        Assert.StartsWith($"cascade.yaml:{error.Location.Line}:", error.ToString(), StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void Time_settings_load_with_defaults_and_overrides()
    {
        var result = PipelineLoader.Load("""
            timezone: Europe/Berlin
            defaults:
              wait_timeout: 6h
              retries: 2
              retry_backoff: 30s
            alerts:
              - slack: ${SLACK_URL}
              - webhook: "https://hooks.example.com/cascade?team=${TEAM}"
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                catchup: false
                start: 2019-03-01
                run: external
              revenue:
                after: [player_entry]
                wait_timeout: 1h30m
                retry_backoff: 2m
                deadline: "6:30"
                run: { command: [revenue] }
              bi_import:
                after: [revenue]
                deadline: 90m
                run: { command: [bi_import] }
            """, "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var p = result.Pipeline!;
        Assert.Equal("Europe/Berlin", p.Definition.TimeZone);
        var schedule = p["player_entry"].Schedule!;
        Assert.Equal("0 2 * * *", schedule.Cron.Expression);
        Assert.Equal(-1, schedule.PartitionOffset);
        Assert.False(schedule.Catchup);
        Assert.Equal(TimeSpan.FromHours(6), p["player_entry"].WaitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(90), p["revenue"].WaitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), p["revenue"].RetryBackoff);
        Assert.Equal(TimeSpan.FromSeconds(30), p["bi_import"].RetryBackoff);
        Assert.Equal(2, p["bi_import"].Retries);
        Assert.Equal(new TimeSpan(6, 30, 0), p["revenue"].Deadline);
        Assert.Equal(TimeSpan.FromMinutes(90), p["bi_import"].Deadline);
        Assert.Null(p["player_entry"].Deadline);
        Assert.Equal(2, p.Definition.Alerts.Count);
    }

    [Fact]
    public void A_schedule_defaults_to_catch_up_and_offset_zero()
    {
        var result = PipelineLoader.Load("jobs:\n  a:\n    schedule: \"0 * * * *\"\n    run: external\n", "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var schedule = result.Pipeline!["a"].Schedule!;
        Assert.True(schedule.Catchup);
        Assert.Equal(0, schedule.PartitionOffset);
        Assert.Null(result.Pipeline["a"].WaitTimeout);
    }

    [Theory]
    [InlineData("0 2 * *")]
    [InlineData("61 * * * *")]
    [InlineData("0 25 * * *")]
    [InlineData("every day")]
    public void A_bad_cron_is_refused_at_its_line(string cron)
    {
        var error = SingleError($"""
            jobs:
              player_entry:
                run: external
                schedule: "{cron}"
            """, "not a 5-field cron expression");

        Assert.Equal(4, error.Location.Line);
        Assert.Contains($"'{cron}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("player_entry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_time_zone_is_refused_at_its_line()
    {
        var error = SingleError("""
            # nightly pipeline
            timezone: Europe/Springfield
            jobs:
              a: { run: external }
            """, "unknown time zone 'Europe/Springfield'");

        Assert.Equal(2, error.Location.Line);
    }

    [Theory]
    [InlineData("wait_timeout: soon", "'wait_timeout': 'soon' is not a duration")]
    [InlineData("wait_timeout: 6 hours", "'wait_timeout': '6 hours' is not a duration")]
    [InlineData("deadline: \"25:00\"", "deadline '25:00' is not a time after the partition ends")]
    [InlineData("deadline: tomorrow", "deadline 'tomorrow' is not a time after the partition ends")]
    [InlineData("catchup: maybe", "catchup must be true or false")]
    public void A_bad_time_value_on_a_job_is_refused_at_its_line(string line, string message)
    {
        var error = SingleError($"""
            jobs:
              a:
                run: external
              b:
                after: [a]
                run: external
                {line}
            """, message);

        Assert.Equal(7, error.Location.Line);
    }

    [Fact]
    public void A_bad_default_wait_timeout_is_refused_at_its_line()
    {
        var error = SingleError("""
            defaults:
              retries: 1
              wait_timeout: 6x
            jobs:
              a: { run: external }
            """, "'wait_timeout': '6x' is not a duration");

        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void A_schedule_on_a_job_with_inputs_is_refused_at_its_line()
    {
        var error = SingleError("""
            jobs:
              player_entry:
                run: external
              sessions:
                after: [player_entry]
                schedule: "0 3 * * *"
                run: external
            """, "only root jobs");

        Assert.Equal(6, error.Location.Line);
        Assert.Contains("'sessions'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("partition_offset: -1", "'partition_offset' needs a 'schedule'")]
    [InlineData("catchup: false", "'catchup' needs a 'schedule'")]
    public void Schedule_settings_without_a_schedule_are_refused_at_their_line(string line, string message)
    {
        var error = SingleError($"""
            jobs:
              player_entry:
                start: 2019-03-01
                {line}
                run: external
            """, message);

        Assert.Equal(4, error.Location.Line);
    }

    [Theory]
    [InlineData("{webhook: \"ftp://x\"}", "'ftp://x' is not an http(s) URL")]
    [InlineData("{slack: \"file:///etc/passwd\"}", "is not an http(s) URL")]
    [InlineData("{slack: \"hooks.slack.com/x\"}", "is not an http(s) URL")]
    [InlineData("{webhook: \"https://x/${BAD\"}", "malformed ${NAME} variable")]
    public void An_alert_url_that_is_not_http_is_refused_at_its_line(string entry, string message)
    {
        var error = SingleError($$"""
            jobs:
              a: { run: external }
            alerts: [{{entry}}]
            """, message);

        Assert.Equal(3, error.Location.Line);
    }

    [Theory]
    [InlineData("{slack: \"${SLACK_URL}\"}")]
    [InlineData("{webhook: \"http://127.0.0.1:9999/hook\"}")]
    [InlineData("{webhook: \"https://${HOOK_HOST}/cascade/${HOOK_TOKEN}\"}")]
    public void Http_and_environment_variable_alert_urls_are_accepted(string entry)
    {
        var result = PipelineLoader.Load($$"""
            jobs:
              a: { run: external }
            alerts: [{{entry}}]
            """, "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Single(result.Pipeline!.Definition.Alerts);
    }
}
