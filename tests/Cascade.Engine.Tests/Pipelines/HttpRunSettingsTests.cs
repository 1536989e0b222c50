using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary><c>run: { http: … }</c> and <c>run_timeout</c>: typed settings, or one error at its line.</summary>
public sealed class HttpRunSettingsTests
{
    private static PipelineResult Load(string job) =>
        PipelineLoader.Load("defaults:\n  run_timeout: 6h\njobs:\n  up:\n    run: external\n  cmd:\n    after: [up]\n    run: { command: [echo] }\n" + job, "cascade.yaml");

    private static string Error(string job)
    {
        var result = Load(job);
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void An_http_run_reads_every_setting_and_takes_run_timeout_from_the_defaults()
    {
        var result = Load("""
              remote:
                after: [up]
                run:
                  http:
                    url: "https://api.example/run/{job}?d={date}"
                    method: put
                    headers: { X-Token: "${TOKEN}" }
                    body: { n: 1, s: "{partition}", b: false, z: null, q: "1", l: [a, 2], j: !json { x: "{hour}" } }
                    success_codes: [200, 202]
                    timeout: 10s
                    aws: { service: states, region: eu-west-1 }
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var job = result.Pipeline!["remote"];
        var http = Assert.IsType<RunSpec.Http>(job.Run).Request;
        Assert.Equal("PUT", http.Method);
        Assert.Equal([new("X-Token", "${TOKEN}")], http.Headers);
        Assert.Equal([200, 202], http.SuccessCodes);
        Assert.Equal(TimeSpan.FromSeconds(10), http.Timeout);
        Assert.Equal(new AwsSigning("states", "eu-west-1"), http.Aws);
        Assert.Equal(TimeSpan.FromHours(6), job.RunTimeout);
        Assert.Null(result.Pipeline["cmd"].RunTimeout);
        var body = Assert.IsType<BodyTemplate.Members>(http.Body).Entries.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(new BodyTemplate.Literal("1"), body["n"]);
        Assert.Equal(new BodyTemplate.Text("{partition}"), body["s"]);
        Assert.Equal(new BodyTemplate.Literal("false"), body["b"]);
        Assert.Equal(new BodyTemplate.Literal("null"), body["z"]);
        Assert.Equal(new BodyTemplate.Text("1"), body["q"]);
        Assert.IsType<BodyTemplate.Embedded>(body["j"]);
        Assert.Equal(["https://api.example/run/{job}?d={date}", "${TOKEN}", "{partition}", "1", "a", "{hour}"], http.Templates());
    }

    [Theory]
    [InlineData("  r:\n    run: { http: { method: POST } }", "cascade.yaml:10:18: job 'r': run.http needs 'url'")]
    [InlineData("  r:\n    run: { http: { url: \"ftp://x/{job}\" } }", "cascade.yaml:10:25: job 'r': run.http.url 'ftp://x/{job}' is not an http:// or https:// URL")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/{nope}\" } }", "cascade.yaml:10:18: job 'r': unknown placeholder '{nope}' in run.http (known: {job}, {partition}, {date}, {year}, {month}, {day}, {hour}, {run_id}, {attempt}, {params.NAME})")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", body: \"{date}\" } }", "cascade.yaml:10:44: job 'r': run.http.body must be a mapping or a list (it is sent as JSON; values with placeholders are JSON-escaped)")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", success_codes: [200, 700] } }", "cascade.yaml:10:59: job 'r': run.http.success_codes: '700' is not an HTTP status (100-599)")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", headers: { \"Bad Name\": x } } }", "cascade.yaml:10:49: job 'r': run.http.headers: 'Bad Name' is not a header name")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", aws: { service: states } } }", "cascade.yaml:10:43: job 'r': run.http.aws needs 'service' (its signing name, e.g. states, glue) and 'region' (e.g. us-east-1)")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", retry: 3 } }", "cascade.yaml:10:38: unknown key 'retry' in run.http of job 'r' (known: url, method, headers, body, success_codes, timeout, resend, on_restart, aws)")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", on_restart: again } }", "cascade.yaml:10:50: job 'r': run.http.on_restart must be wait (the default: after a restart, wait for the marker without sending again) or resend (send the same attempt again, for a target with an idempotency key), not 'again'")]
    [InlineData("  r:\n    run: { http: { url: \"http://x/\", on_restart: [wait] } }", "cascade.yaml:10:50: 'on_restart' must be a single value")]
    [InlineData("  r:\n    run: { command: [echo], http: { url: \"http://x/\" } }", "cascade.yaml:10:35: job 'r': 'run' has either 'command' or 'http', not both")]
    [InlineData("  r:\n    run_timeout: 1h\n    run: { command: [echo] }", "cascade.yaml:9:3: job 'r': run_timeout is for remote (run.http) jobs, whose marker comes later; a command's run ends when its process exits")]
    public void A_bad_http_setting_is_one_error_at_its_line(string job, string error)
    {
        Assert.Equal(error, Error(job));
    }

    [Theory]
    [InlineData("", RemoteRestart.Wait)]
    [InlineData(", on_restart: wait", RemoteRestart.Wait)]
    [InlineData(", on_restart: resend", RemoteRestart.Resend)]
    public void On_restart_is_wait_unless_it_says_resend(string setting, RemoteRestart expected)
    {
        var result = Load($"  r:\n    after: [up]\n    run: {{ http: {{ url: \"http://x/\"{setting} }} }}");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(expected, Assert.IsType<RunSpec.Http>(result.Pipeline!["r"].Run).Request.OnRestart);
    }

    [Fact]
    public void An_environment_variable_in_a_template_is_not_a_placeholder()
    {
        var result = Load("  r:\n    run: { http: { url: \"${BASE_URL}/run/{job}\", headers: { Authorization: \"Bearer ${API_TOKEN}\" } } }");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }
}
