using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Http;
using Cascade.Engine.Pipelines;
using Cascade.Engine.Tests.Alerts;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Executors;

/// <summary>
/// The AWS recipes of docs/cloud.md, read from the page itself (so the docs cannot rot): each
/// pipeline loads, its activation is sent to a receiver on 127.0.0.1 standing in for the AWS
/// endpoint, and the request is checked field by field, its SigV4 signature verified with the test
/// credentials.
/// </summary>
public sealed partial class AwsRecipeTests : IDisposable
{
    private static readonly string[] InputFields = ["year", "month", "day", "partition"];
    private readonly string _logs = Directory.CreateTempSubdirectory("cascade-recipe-").FullName;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_logs, recursive: true);
    }

    [GeneratedRegex(@"<!-- recipe: (?<name>[a-z-]+) -->\s*```yaml\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Recipe();

    [GeneratedRegex(@"https://[a-z]+\.eu-west-1\.amazonaws\.com/")]
    private static partial Regex AwsEndpoint();

    private static string RecipeYaml(string name)
    {
        var page = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "cloud.md"));
        return Recipe().Matches(page).Single(m => m.Groups["name"].Value == name).Groups["yaml"].Value;
    }

    private async Task<(ReceivedRequest Request, JsonElement Body, RunSpec.Http Spec)> SendAsync(string recipe, string job, string partition)
    {
        await using var receiver = HttpReceiver.Start();
        var yaml = AwsEndpoint().Replace(RecipeYaml(recipe), receiver.BaseUrl + "/");
        var result = PipelineLoader.Load(yaml, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var key = new RunKey(job, Partition.Parse(partition));
        var runId = $"{job}__{partition}__g1a1";
        var executor = new HttpExecutor(result.Pipeline!, _http, TimeProvider.System, _ => null, () => new BasicAWSCredentials(HttpExecutorTests.AccessKey, HttpExecutorTests.SecretKey));
        var context = new AttemptContext("x", Path.Combine(_logs, job + ".log")) { MarkerObserved = Task.CompletedTask };

        var outcome = await executor.ExecuteAsync(new Activation(key, 1, 1, runId, [], Placeholders.BuiltIns(key, runId, 1), new Dictionary<string, string>()), context, CancellationToken.None);

        Assert.Equal(new AttemptOutcome.Exited(0), outcome);
        var request = Assert.Single(receiver.Requests);
        var spec = (RunSpec.Http)result.Pipeline![job].Run;
        Assert.Null(SigV4Check.Problem(request, HttpExecutorTests.AccessKey, HttpExecutorTests.SecretKey, spec.Request.Aws!.Service, spec.Request.Aws.Region));
        return (request, JsonDocument.Parse(request.Body).RootElement, spec);
    }

    [Fact]
    public async Task Step_functions_start_execution_is_named_after_the_run_and_carries_its_partition_as_json_input()
    {
        var (request, body, spec) = await SendAsync("step-functions", "revenue", "20190312");

        Assert.Equal("POST", request.Method);
        Assert.Equal("/", request.RawPath);
        Assert.Equal("AWSStepFunctions.StartExecution", request.Headers["X-Amz-Target"]);
        Assert.Equal("application/x-amz-json-1.0", request.Headers["Content-Type"]);
        Assert.Equal("arn:aws:states:eu-west-1:123456789012:stateMachine:revenue", body.GetProperty("stateMachineArn").GetString());
        Assert.Equal("revenue__20190312__g1a1", body.GetProperty("name").GetString());
        Assert.Matches("^[A-Za-z0-9_-]{1,80}$", body.GetProperty("name").GetString());
        using var input = JsonDocument.Parse(body.GetProperty("input").GetString()!);
        Assert.Equal("2019|03|12|20190312", string.Join('|', InputFields.Select(p => input.RootElement.GetProperty(p).GetString())));
        Assert.True(spec.Request.Resend);
    }

    [Fact]
    public async Task Glue_start_job_run_passes_the_date_as_job_arguments_and_is_never_resent()
    {
        var (request, body, spec) = await SendAsync("glue", "sessions", "20190312");

        Assert.Equal("AWSGlue.StartJobRun", request.Headers["X-Amz-Target"]);
        Assert.Equal("application/x-amz-json-1.1", request.Headers["Content-Type"]);
        Assert.Equal("sessions", body.GetProperty("JobName").GetString());
        var arguments = body.GetProperty("Arguments");
        Assert.Equal("2019-03-12", $"{arguments.GetProperty("--year").GetString()}-{arguments.GetProperty("--month").GetString()}-{arguments.GetProperty("--day").GetString()}");
        Assert.Equal("sessions__20190312__g1a1", arguments.GetProperty("--cascade_run_id").GetString());
        Assert.False(spec.Request.Resend);
    }

    [Fact]
    public async Task Data_pipeline_activate_pipeline_sends_year_month_day_and_hour_as_parameter_values()
    {
        var (request, body, spec) = await SendAsync("data-pipeline", "bi_import", "20190312");

        Assert.Equal("DataPipeline.ActivatePipeline", request.Headers["X-Amz-Target"]);
        Assert.Equal("df-0123456789ABCDEFGHIJ", body.GetProperty("pipelineId").GetString());
        Assert.Equal(
            ["myYear=2019", "myMonth=03", "myDay=12", "myHour="],
            body.GetProperty("parameterValues").EnumerateArray().Select(p => $"{p.GetProperty("id").GetString()}={p.GetProperty("stringValue").GetString()}"));
        Assert.False(spec.Request.Resend);
    }
}
