using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 11: a chain whose markers live only in a bucket (s3rver on 127.0.0.1), with notifications
/// off: the real <c>cascade</c> finds the upstream marker by listing, runs the downstream job with
/// the marker's params, and writes the job's marker to the bucket.
/// </summary>
public sealed class S3MarkerTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private async Task<CliResult> CascadeAsync(params string[] args)
    {
        await using var process = CascadeCli.Start(_ws.Root, S3Bucket.Environment, args);
        return await process.WaitForExitAsync(CascadeCli.Timeout);
    }

    [Fact]
    public async Task Run_until_idle_runs_a_downstream_job_from_a_marker_in_the_bucket_and_writes_its_marker_there()
    {
        using var bucket = await S3Bucket.CreateAsync(nameof(Run_until_idle_runs_a_downstream_job_from_a_marker_in_the_bucket_and_writes_its_marker_there));
        if (bucket is null)
        {
            return;
        }

        _ws.Write("cascade.yaml", $$"""
            markers:
              s3: { bucket: {{bucket.Name}}, prefix: done/, endpoint: "{{bucket.Url}}", region: us-east-1 }
            jobs:
              player_entry:
                run: external
              sessions:
                after: [player_entry]
                run: { command: [sh, -c, 'printf "%s %s" "$CASCADE_MARKER" "$1" > ran.txt', sh, "{params.country}"] }
            """);
        await bucket.PutAsync("done/player_entry__20190312.done", """{"params": {"country": "DE"}}""");

        var run = await CascadeAsync("run", "--until-idle");

        run.AssertExitCode(0);
        Assert.Contains($"markers in s3://{bucket.Name}/done/", run.StdOut, StringComparison.Ordinal);
        Assert.Equal($"s3://{bucket.Name}/done/sessions__20190312.done DE", File.ReadAllText(_ws.PathOf("ran.txt")));
        Assert.Equal(["done/player_entry__20190312.done", "done/sessions__20190312.done"], await bucket.KeysAsync());
        Assert.Equal(string.Empty, await bucket.GetAsync("done/sessions__20190312.done"));

        // `cascade done` writes into the bucket too, and the next run takes it from there.
        (await CascadeAsync("done", "player_entry", "20190313", "--param", "country=FR")).AssertExitCode(0);
        (await CascadeAsync("run", "--until-idle")).AssertExitCode(0);
        Assert.EndsWith("sessions__20190313.done FR", File.ReadAllText(_ws.PathOf("ran.txt")), StringComparison.Ordinal);
        var status = await CascadeAsync("status", "--json");
        Assert.Equal(4, status.StdOut.Split("\"succeeded\"").Length - 1);
    }

    [Fact]
    public async Task A_remote_job_activated_by_http_stays_running_until_it_writes_its_marker_to_the_bucket()
    {
        using var bucket = await S3Bucket.CreateAsync(nameof(A_remote_job_activated_by_http_stays_running_until_it_writes_its_marker_to_the_bucket));
        if (bucket is null)
        {
            return;
        }

        // The remote job answers 202 at once and writes its marker a moment later, as a real one would.
        using var remote = new ActivationReceiver(async body =>
        {
            var partition = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("partition").GetString();
            _ = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
                await bucket.PutAsync($"done/revenue__{partition}.done", """{"rows": 7}""");
            });
            return await Task.FromResult(202);
        });
        _ws.Write("cascade.yaml", $$"""
            markers:
              s3: { bucket: {{bucket.Name}}, prefix: done/, endpoint: "{{bucket.Url}}", region: us-east-1 }
              rescan_interval: 1s
            jobs:
              player_entry:
                run: external
              revenue:
                after: [player_entry]
                run_timeout: 1m
                run: { http: { url: "{{remote.Url}}start", body: { partition: "{partition}", run: "{run_id}" } } }
              bi_import:
                after: [revenue]
                run: { command: [sh, -c, 'echo imported > imported.txt'] }
            """);
        await bucket.PutAsync("done/player_entry__20190312.done", string.Empty);

        var run = await CascadeAsync("run", "--until-idle");

        run.AssertExitCode(0);
        Assert.Equal("""{"partition":"20190312","run":"revenue__20190312__g1a1"}""", Assert.Single(remote.Bodies));
        Assert.True(_ws.Exists("imported.txt"), run.ToString());
        Assert.Equal("""{"rows": 7}""", await bucket.GetAsync("done/revenue__20190312.done"));
        Assert.NotNull(await bucket.GetAsync("done/bi_import__20190312.done"));
    }

    [Fact]
    public async Task A_remote_job_whose_marker_never_comes_fails_at_run_timeout_and_breaks_the_chain()
    {
        using var bucket = await S3Bucket.CreateAsync(nameof(A_remote_job_whose_marker_never_comes_fails_at_run_timeout_and_breaks_the_chain));
        if (bucket is null)
        {
            return;
        }

        using var remote = new ActivationReceiver(_ => Task.FromResult(202));
        _ws.Write("cascade.yaml", $$"""
            markers:
              s3: { bucket: {{bucket.Name}}, endpoint: "{{bucket.Url}}" }
            jobs:
              player_entry:
                run: external
              revenue:
                after: [player_entry]
                run_timeout: 2s
                run: { http: { url: "{{remote.Url}}start" } }
              bi_import:
                after: [revenue]
                run: { command: [sh, -c, 'echo imported > imported.txt'] }
            """);
        await bucket.PutAsync("player_entry__20190312.done", string.Empty);

        var run = await CascadeAsync("run", "--until-idle");

        run.AssertExitCode(1);
        var why = await CascadeAsync("why", "revenue", "20190312");
        Assert.Contains("no marker within run_timeout 2s after the activation", why.StdOut, StringComparison.Ordinal);
        Assert.False(_ws.Exists("imported.txt"));
        Assert.Contains("upstream_failed", (await CascadeAsync("status", "--json")).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bucket_that_does_not_exist_stops_run_with_one_line_and_no_stack_trace()
    {
        using var bucket = await S3Bucket.CreateAsync(nameof(A_bucket_that_does_not_exist_stops_run_with_one_line_and_no_stack_trace));
        if (bucket is null)
        {
            return;
        }

        _ws.Write("cascade.yaml", $$"""
            markers:
              s3: { bucket: no-such-bucket-e2e, endpoint: "{{bucket.Url}}" }
            jobs:
              a:
                run: external
            """);

        var run = await CascadeAsync("run", "--until-idle");

        run.AssertExitCode(1);
        Assert.Equal("error: cannot list the markers in s3://no-such-bucket-e2e/: NoSuchBucket: The specified bucket does not exist", run.StdErr.Trim());
    }
}
