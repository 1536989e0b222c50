using System.Globalization;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>A failing command is retried with backoff, then `failed`; its output is kept per attempt and explained.</summary>
public sealed class FailureTests(FailureTests.Chain chain) : IClassFixture<FailureTests.Chain>
{
    /// <summary>The chain, run once for all the tests: `upstream` done, then `cascade run --until-idle`.</summary>
    public sealed class Chain : IAsyncLifetime, IDisposable
    {
        public TempWorkspace Ws { get; } = new();

        public CliResult Run { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Ws.Write("cascade.yaml", """
                jobs:
                  upstream:
                    run: external
                  flaky:
                    after: [upstream]
                    retries: 1
                    retry_backoff: 1s
                    run: { command: [./jobs/flaky.sh, "{date}"] }
                  after_flaky:
                    after: [flaky]
                    run: { command: [sh, -c, 'touch downstream-ran'] }
                  unfilled:
                    after: [upstream]
                    retries: 2
                    run: { command: [echo, "{params.nope}"] }
                """);
            Ws.WriteScript("jobs/flaky.sh", """
                #!/bin/sh
                echo "flaky attempt $CASCADE_ATTEMPT for $1"
                echo "boom on stderr" >&2
                exit 3
                """);
            (await CascadeCli.RunAsync(Ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
            Run = await CascadeCli.RunAsync(Ws.Root, "run", "--until-idle");
        }

        public Task DisposeAsync() => Task.CompletedTask;

        public void Dispose() => Ws.Dispose();
    }

    private string Root => chain.Ws.Root;

    private async Task<JsonElement> RunJsonAsync(string job)
    {
        var status = (await CascadeCli.RunAsync(Root, "status", "--json", "--job", job)).AssertExitCode(0);
        using var doc = JsonDocument.Parse(status.StdOut);
        return Assert.Single(doc.RootElement.EnumerateArray()).Clone();
    }

    [Fact]
    public async Task A_job_exiting_3_with_one_retry_fails_after_two_attempts_a_backoff_apart()
    {
        var run = chain.Run.AssertExitCode(1); // runs it ran broke (item 13)

        Assert.Matches(@"flaky 20190312 +failed \(exited with code 3\); retry at", run.StdErr);
        Assert.Matches(@"flaky 20190312 +FAILED: exited with code 3", run.StdErr);
        Assert.Matches(@"idle: .*2 failed", run.StdOut); // flaky and unfilled

        var flaky = await RunJsonAsync("flaky");
        Assert.Equal("failed", flaky.GetProperty("state").GetString());
        Assert.Equal(2, flaky.GetProperty("attempt").GetInt32());
        Assert.Equal(3, flaky.GetProperty("exit_code").GetInt32());
        var activated = DateTimeOffset.Parse(flaky.GetProperty("activated_at").GetString()!, CultureInfo.InvariantCulture);
        var finished = DateTimeOffset.Parse(flaky.GetProperty("finished_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(finished - activated >= TimeSpan.FromSeconds(0.9), $"the retry did not wait for its 1s backoff: {activated:O} .. {finished:O}");
    }

    [Fact]
    public async Task Each_attempt_keeps_its_own_output_for_cascade_logs()
    {
        var first = (await CascadeCli.RunAsync(Root, "logs", "flaky", "20190312", "--attempt", "1")).AssertExitCode(0);
        Assert.Contains("flaky attempt 1 for 2019-03-12", first.StdOut, StringComparison.Ordinal);
        Assert.Contains("boom on stderr", first.StdOut, StringComparison.Ordinal);
        Assert.Contains("exit 3", first.StdErr, StringComparison.Ordinal);

        var latest = (await CascadeCli.RunAsync(Root, "logs", "flaky", "20190312")).AssertExitCode(0);
        Assert.Contains("flaky attempt 2 for 2019-03-12", latest.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("attempt 1", latest.StdOut, StringComparison.Ordinal);

        var missing = await CascadeCli.RunAsync(Root, "logs", "flaky", "20190312", "--attempt", "3");
        missing.AssertExitCode(1);
        Assert.Contains("attempts 1..2", missing.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Why_explains_the_failure_and_that_the_downstream_input_is_failed()
    {
        var why = (await CascadeCli.RunAsync(Root, "why", "flaky", "20190312")).AssertExitCode(0);
        Assert.StartsWith("flaky 20190312: failed", why.StdOut, StringComparison.Ordinal);
        Assert.Contains("exited with code 3", why.StdOut, StringComparison.Ordinal);
        Assert.Contains("cascade logs flaky 20190312", why.StdOut, StringComparison.Ordinal);

        var downstream = (await CascadeCli.RunAsync(Root, "why", "after_flaky", "20190312")).AssertExitCode(0);
        Assert.Contains(downstream.StdOut.Split('\n'), l => l.Contains("flaky 20190312", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));
        Assert.False(chain.Ws.Exists("downstream-ran"), "a job ran after an input that failed");
    }

    [Fact]
    public async Task A_placeholder_without_a_value_fails_the_run_at_once_without_retries()
    {
        Assert.Contains("{params.nope}", chain.Run.StdErr, StringComparison.Ordinal);
        var unfilled = await RunJsonAsync("unfilled");
        Assert.Equal("failed", unfilled.GetProperty("state").GetString());
        Assert.Equal(1, unfilled.GetProperty("attempt").GetInt32());
        Assert.Contains("{params.nope}", unfilled.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }
}
