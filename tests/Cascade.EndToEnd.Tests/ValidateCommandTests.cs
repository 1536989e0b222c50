using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// `cascade validate -f FILE`: every bad input gets a clear <c>file:line:column: message</c> on
/// stderr and exit code 1; a good file exits 0 and says it is valid.
/// </summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private async Task<CliResult> ValidateAsync(string yaml)
    {
        var file = _ws.Write("cascade.yaml", yaml);
        var result = await CascadeCli.RunAsync(_ws.Root, "validate", "-f", file);
        result.AssertExitCode(1);
        Assert.DoesNotContain("valid —", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.StdErr, StringComparison.Ordinal);
        return result;
    }

    private static void AssertErrorAt(CliResult result, int line, params string[] words)
    {
        var errorLine = result.StdErr.Split('\n').FirstOrDefault(l => l.StartsWith($"cascade.yaml:{line}:", StringComparison.Ordinal));
        Assert.True(errorLine is not null, $"no error at cascade.yaml:{line}:\n{result}");
        foreach (var word in words)
        {
            Assert.Contains(word, errorLine, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Broken_yaml_syntax_is_reported_with_file_and_line()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                run: { command: [echo, hi }
            """);

        AssertErrorAt(result, 3, "YAML syntax error");
        Assert.Contains("1 error(s) in cascade.yaml", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Badly_indented_key_is_reported_on_its_own_line()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                run:
                  command: [echo]
               retries: 1
            """);

        AssertErrorAt(result, 5, "YAML syntax error");
    }

    // Regression: YamlDotNet throws the tab error without a position, so it was printed at 1:1
    // instead of on the tab's line.
    [Fact]
    public async Task Tab_indentation_is_reported_on_the_line_of_the_tab()
    {
        var result = await ValidateAsync("jobs:\n  a:\n    run: external\n  b:\n\trun: external\n");

        Assert.Contains("tab", result.StdErr, StringComparison.Ordinal);
        AssertErrorAt(result, 5, "tab");
    }

    [Fact]
    public async Task Unknown_job_in_after_names_the_line_of_the_entry_and_suggests_the_closest_job()
    {
        var result = await ValidateAsync("""
            jobs:
              player_entry:
                run: { command: [echo] }
              sessions:
                after:
                  - player_entyr
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 6, "sessions", "unknown job 'player_entyr'", "did you mean 'player_entry'?");
    }

    [Fact]
    public async Task Unknown_job_far_from_any_name_gets_no_suggestion()
    {
        var result = await ValidateAsync("""
            jobs:
              player_entry:
                run: { command: [echo] }
              sessions:
                after: [completely_different]
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 5, "unknown job 'completely_different'");
        Assert.DoesNotContain("did you mean", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_jobs_after_each_other_are_a_cycle_and_its_path_is_printed()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                after: [b]
                run: { command: [echo] }
              b:
                after: [a]
                run: { command: [echo] }
            """);

        Assert.Matches(@"cascade\.yaml:\d+:\d+: cycle: a -> b -> a", result.StdErr);
    }

    [Fact]
    public async Task A_three_job_cycle_prints_only_the_jobs_on_it_in_dependency_order()
    {
        var result = await ValidateAsync("""
            jobs:
              root:
                run: external
              a:
                after: [root, c]
                run: { command: [echo] }
              b:
                after: [a]
                run: { command: [echo] }
              c:
                after: [b]
                run: { command: [echo] }
            """);

        Assert.Matches(@"cascade\.yaml:\d+:\d+: cycle: a -> b -> c -> a", result.StdErr);
        Assert.DoesNotContain("root ->", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_negative_offset_on_itself_is_not_a_cycle_but_offset_zero_is_an_error()
    {
        var ok = await CascadeCli.RunAsync(_ws.Root, "validate", "-f", _ws.Write("ok.yaml", """
            jobs:
              revenue:
                after: [{ job: revenue, offset: -1 }]
                run: { command: [echo] }
            """));
        ok.AssertExitCode(0);

        var result = await ValidateAsync("""
            jobs:
              revenue:
                after: [revenue]
                run: { command: [echo] }
            """);
        AssertErrorAt(result, 3, "depends on itself", "negative offset");
    }

    [Fact]
    public async Task Bad_job_names_are_each_reported_with_the_rule()
    {
        var result = await ValidateAsync("""
            jobs:
              Bad_Name:
                run: { command: [echo] }
              a__b:
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 2, "job name 'Bad_Name' is not valid", "lower-case");
        AssertErrorAt(result, 4, "job name 'a__b'", "must not contain '__'");
        Assert.Contains("2 error(s)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_duration_is_rejected_with_examples_of_good_ones()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                retries: 2
                retry_backoff: 5x
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 4, "retry_backoff", "'5x' is not a duration", "30s");
    }

    [Fact]
    public async Task Bad_cron_schedule_is_rejected_with_the_expected_form()
    {
        var result = await ValidateAsync("""
            jobs:
              player_entry:
                schedule: "0 25 * * *"
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 3, "job 'player_entry'", "'0 25 * * *'", "cron");
    }

    [Fact]
    public async Task Job_without_run_is_rejected_and_told_how_to_write_one()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                run: external
              b:
                after: [a]
                retries: 1
            """);

        AssertErrorAt(result, 4, "job 'b' has no 'run'", "command", "external");
    }

    [Fact]
    public async Task Misspelt_key_is_reported_as_unknown_and_lists_the_known_keys()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                run: { command: [echo] }
              b:
                afer: [a]
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 5, "unknown key 'afer'", "job 'b'", "after");
    }

    [Fact]
    public async Task Command_given_as_a_string_is_rejected_because_no_shell_is_used()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                run:
                  command: "python3 jobs/a.py --date {date}"
            """);

        AssertErrorAt(result, 4, "run.command must be a list", "no shell");
    }

    [Fact]
    public async Task Unknown_placeholder_is_rejected_and_the_known_ones_listed()
    {
        // Job and command on one line: the error may point at either.
        var result = await ValidateAsync("""
            jobs:
              a: { run: { command: [echo, "{dat}"] } }
            """);

        AssertErrorAt(result, 2, "unknown placeholder '{dat}'", "{date}", "{params.NAME}");
    }

    [Fact]
    public async Task Marker_layout_without_a_partition_is_rejected()
    {
        var result = await ValidateAsync("""
            markers:
              folder: ./markers
              layout: "{job}.done"
            jobs:
              a:
                run: external
            """);

        AssertErrorAt(result, 3, "marker layout '{job}.done'", "{partition}");
    }

    [Fact]
    public async Task Marker_layout_not_ending_in_done_is_rejected()
    {
        var result = await ValidateAsync("""
            markers:
              layout: "{job}__{partition}.txt"
            jobs:
              a:
                run: external
            """);

        AssertErrorAt(result, 2, "must end in .done");
    }

    [Fact]
    public async Task Several_errors_in_one_file_are_all_reported()
    {
        var result = await ValidateAsync("""
            jobs:
              a:
                retry_backoff: soon
                run: { command: [echo] }
              b:
                retries: many
                run: { command: [echo] }
            """);

        AssertErrorAt(result, 3, "retry_backoff");
        AssertErrorAt(result, 6, "'retries' must be a whole number");
        Assert.Contains("2 error(s) in cascade.yaml", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_file_is_reported_and_init_suggested()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "validate", "-f", "nowhere.yaml");

        result.AssertExitCode(1);
        Assert.Contains("nowhere.yaml", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("file not found", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("cascade init", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_file_is_reported_as_having_no_jobs()
    {
        var result = await ValidateAsync("");

        AssertErrorAt(result, 1, "'jobs'");
    }

    [Fact]
    public async Task Valid_pipeline_in_the_current_folder_exits_zero_and_says_valid()
    {
        _ws.Write("cascade.yaml", """
            timezone: UTC
            markers:
              folder: ./markers
              layout: "{job}__{partition}.done"
            state: sqlite:.cascade/state.db
            defaults:
              wait_timeout: 6h
              retries: 2
              retry_backoff: 30s
            jobs:
              player_entry:
                schedule: "0 2 * * *"
                partition_offset: -1
                start: 2019-03-01
                run:
                  command: [sh, jobs/player_entry.sh, --date, "{date}"]
              sessions:
                after: [player_entry]
                run: { command: [./jobs/sessions.sh, "{year}", "{month}", "{day}"] }
              revenue:
                after:
                  - player_entry
                  - { job: revenue, offset: -1 }
                wait_timeout: 2h
                deadline: "06:00"
                run: { command: [./jobs/revenue.sh, "{params.currency}"] }
            """);
        _ws.WriteScript("jobs/sessions.sh", "#!/bin/sh\n");
        _ws.WriteScript("jobs/revenue.sh", "#!/bin/sh\n");

        var result = await CascadeCli.RunAsync(_ws.Root, "validate");

        result.AssertExitCode(0);
        Assert.Contains("valid", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("3 job(s)", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StdErr);
    }

    [Fact]
    public async Task Run_on_a_broken_file_fails_with_the_same_error_and_creates_no_state()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              a:
                after: [nope]
                run: { command: [echo] }
            """);

        var result = await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle");

        result.AssertExitCode(1);
        Assert.Contains("cascade.yaml:3:", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("unknown job 'nope'", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(["cascade.yaml"], _ws.Files());
    }

    [Fact]
    public async Task A_queue_of_notifications_with_markers_in_a_folder_or_a_bad_poll_is_reported_at_its_line()
    {
        var result = await ValidateAsync("""
            events:
              sqs: { queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/done, wait_seconds: 30 }
            jobs:
              a:
                run: external
            """);

        var atLine2 = result.StdErr.Split('\n').Where(l => l.StartsWith("cascade.yaml:2:", StringComparison.Ordinal)).ToList();
        Assert.Contains(atLine2, l => l.Contains("'events' needs markers in a bucket", StringComparison.Ordinal));
        Assert.Contains(atLine2, l => l.Contains("events.sqs.wait_seconds must be a whole number from 1 to 20", StringComparison.Ordinal));
        Assert.Contains("2 error(s) in cascade.yaml", result.StdErr, StringComparison.Ordinal);
    }
}
