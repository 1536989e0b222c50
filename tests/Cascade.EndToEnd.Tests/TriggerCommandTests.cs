using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>`cascade trigger JOB PARTITION`: activates any job now, inputs not checked; it goes through the state database, so it works without a running scheduler.</summary>
public sealed class TriggerCommandTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public TriggerCommandTests()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
              work:
                after: [upstream]
                params: { who: default }
                run: { command: [./jobs/work.sh, "{date}", "{params.who}"] }
            """);
        _ws.WriteScript("jobs/work.sh", """
            #!/bin/sh
            printf '%s %s\n' "$1" "$2" >> out.txt
            echo "work ran for $1"
            """);
    }

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Trigger_without_a_scheduler_says_inputs_are_not_checked_and_the_next_run_starts_it()
    {
        var trigger = (await CascadeCli.RunAsync(_ws.Root, "trigger", "work", "2019-03-12", "--param", "who=cli")).AssertExitCode(0);

        Assert.Contains("work 20190312", trigger.StdOut, StringComparison.Ordinal);
        Assert.Contains("inputs are not checked", trigger.StdOut, StringComparison.Ordinal);
        Assert.False(_ws.Exists("out.txt"), "the job ran before any scheduler was started");

        var run = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        Assert.Matches(@"work 20190312 +started \(attempt 1, triggered\)", run.StdOut);
        Assert.Equal("2019-03-12 cli\n", _ws.Read("out.txt"));
        using var status = JsonDocument.Parse((await CascadeCli.RunAsync(_ws.Root, "status", "--json", "--job", "work")).AssertExitCode(0).StdOut);
        var work = Assert.Single(status.RootElement.EnumerateArray());
        Assert.Equal("succeeded", work.GetProperty("state").GetString());
        Assert.True(_ws.Exists("markers/work__20190312.done"), "no marker was left for the triggered run");

        var why = (await CascadeCli.RunAsync(_ws.Root, "why", "work", "20190312")).AssertExitCode(0);
        Assert.Contains("trigger", why.StdOut, StringComparison.Ordinal);
        Assert.Contains("inputs not checked", why.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trigger_is_taken_once_so_a_second_run_does_not_start_the_job_again()
    {
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "work", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        var again = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        Assert.DoesNotContain("started", again.StdOut, StringComparison.Ordinal);
        Assert.Equal("2019-03-12 default\n", _ws.Read("out.txt"));
    }

    [Fact]
    public async Task Trigger_of_an_external_job_is_refused_with_a_clear_message_and_queues_nothing()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "trigger", "upstream", "20190312");

        result.AssertExitCode(1);
        Assert.Contains("'upstream' is an external job", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("cascade done upstream 20190312", result.StdErr, StringComparison.Ordinal);

        var run = (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);
        Assert.Contains("nothing to do", run.StdOut, StringComparison.Ordinal);
        Assert.False(_ws.Exists("out.txt"));
    }

    [Fact]
    public async Task Trigger_of_an_unknown_job_is_refused()
    {
        var result = await CascadeCli.RunAsync(_ws.Root, "trigger", "wrok", "20190312");

        result.AssertExitCode(1);
        Assert.Contains("no job 'wrok'", result.StdErr, StringComparison.Ordinal);
    }

    // Regression: a trigger of a run that already succeeded was accepted ("the next `cascade run`
    // starts it") and then dropped by the scheduler with only a log warning.
    [Fact]
    public async Task Trigger_of_an_already_succeeded_run_is_refused_at_once()
    {
        (await CascadeCli.RunAsync(_ws.Root, "trigger", "work", "20190312")).AssertExitCode(0);
        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        var again = await CascadeCli.RunAsync(_ws.Root, "trigger", "work", "20190312");

        Assert.True(again.ExitCode != 0, $"the trigger was accepted although the run already succeeded\n{again}");
        Assert.Contains("already succeeded", again.StdErr, StringComparison.Ordinal);
    }
}
