using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary>
/// The writes: each accepted one is a request row (a marker, for /api/markers) on the CLI's path;
/// each refused one is a problem naming the cause and leaves the state database and the marker
/// folder exactly as they were (compared row by row, file by file).
/// </summary>
public sealed class WriteApiTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await _host.WriteMarkerAsync("extract", "20190312");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, string?, int, string, string?> Refused() => new()
    {
        // trigger
        { "/api/runs/nope/20190312/trigger", null, 404, "no job 'nope'", "job" },
        { "/api/runs/load/2019-02-30/trigger", null, 400, "2019-02-30", "partition" },
        { "/api/runs/load/2019031205/trigger", null, 400, "job 'load' is daily", "partition" },
        { "/api/runs/extract/20190312/trigger", null, 400, "'extract' is an external job", "job" },
        { "/api/runs/load/20190312/trigger", "{\"params\": ", 400, "the body is not valid JSON", null },
        { "/api/runs/load/20190312/trigger", "[1]", 400, "the body must be a JSON object, not a list", null },
        { "/api/runs/load/20190312/trigger", "{\"param\": {}}", 400, "unknown field 'param'", "param" },
        { "/api/runs/load/20190312/trigger", "{\"params\": []}", 400, "params must be an object, not a list", "params" },
        { "/api/runs/load/20190312/trigger", "{\"params\": {\"n\": 1}}", 400, "params.n must be a string, not a number", "params.n" },
        { "/api/runs/load/20190312/trigger", "{\"params\": {\"1x\": \"a\"}}", 400, "'1x' is not a valid name", "params.1x" },
        // markers
        { "/api/markers", "{\"partition\": \"20190313\"}", 400, "job is required", "job" },
        { "/api/markers", "{\"job\": \"nope\", \"partition\": \"20190313\"}", 404, "no job 'nope'", "job" },
        { "/api/markers", "{\"job\": \"extract\"}", 400, "partition is required", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": 20190313}", 400, "partition must be a string, not a number", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190313x\"}", 400, "20190313x", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190320..20190310\"}", 400, "ends before it starts", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190310..20190312\"}", 409, "1 of the 3 markers of extract 20190310..20190312 exist already", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190312\"}", 409, "exists already", "partition" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190313\", \"meta\": {\"params\": 1}}", 400, "meta params=… is not allowed", "meta" },
        { "/api/markers", "{\"job\": \"extract\", \"partition\": \"20190313\", \"force\": \"yes\"}", 400, "force must be true or false", "force" },
        // replay
        { "/api/replay", "{\"job\": \"nope\", \"from\": \"20190312\"}", 404, "no job 'nope'", "job" },
        { "/api/replay", "{\"job\": \"load\"}", 400, "from is required", "from" },
        { "/api/replay", "{\"job\": \"load\", \"from\": \"20190312\", \"to\": \"2019\"}", 400, "2019", "to" },
        { "/api/replay", "{\"job\": \"load\", \"from\": \"20190312\", \"to\": \"20190311\"}", 400, "ends before it starts", "to" },
        { "/api/replay", "{\"job\": \"load\", \"from\": \"20190312\", \"dryrun\": true}", 400, "unknown field 'dryrun'", "dryrun" },
        // backfills
        { "/api/backfills", "{\"from\": \"2019-03-01\"}", 400, "to is required", "to" },
        { "/api/backfills", "{\"from\": \"2019-03-32\", \"to\": \"2019-04-01\"}", 400, "from '2019-03-32' is not a date", "from" },
        { "/api/backfills", "{\"from\": \"2019-03-05\", \"to\": \"2019-03-01\"}", 400, "to 2019-03-01 is before from 2019-03-05", "to" },
        { "/api/backfills", "{\"from\": \"2019-03-01\", \"to\": \"2019-03-02\", \"max_parallel\": 0}", 400, "max_parallel must be 1 or more", "max_parallel" },
        { "/api/backfills", "{\"from\": \"2019-03-01\", \"to\": \"2019-03-02\", \"jobs\": [\"nope\"]}", 404, "no job 'nope'", "jobs" },
        { "/api/backfills", "{\"from\": \"2019-03-01\", \"to\": \"2019-03-02\", \"jobs\": [\"extract\"]}", 400, "'extract' is an external job", "jobs" },
        { "/api/backfills", "{\"from\": \"2000-01-01\", \"to\": \"2019-03-02\"}", 400, "at most 10 years", "to" },
        // cancel
        { "/api/cancel", "{}", 400, "give either job and partition, or backfill", null },
        { "/api/cancel", "{\"partition\": \"20190312\"}", 400, "partition needs job", "job" },
        { "/api/cancel", "{\"backfill\": \"bf-nope\"}", 404, "no backfill 'bf-nope'", "backfill" },
        { "/api/cancel", "{\"job\": \"load\", \"partition\": \"20190301..20190302\"}", 409, "nothing waiting, queued or running for load 20190301..20190302", null },
        { "/api/cancel", "{\"job\": \"nope\", \"partition\": \"20190312\"}", 404, "no job 'nope'", "job" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_refused_write_is_a_problem_naming_the_cause_and_changes_nothing(string path, string? body, int status, string detail, string? field)
    {
        var before = _host.Dump();
        using var response = await _host.PostAsync(path, body);
        await ApiHost.AssertProblemAsync(response, status, detail, field);
        Assert.Equal(before, _host.Dump());
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_refused_with_413_and_changes_nothing()
    {
        var before = _host.Dump();
        var big = "{\"params\": {\"x\": \"" + new string('a', 64 * 1024) + "\"}}";
        using var response = await _host.PostAsync("/api/runs/load/20190312/trigger", big);
        await ApiHost.AssertProblemAsync(response, 413, "64 KiB");
        Assert.Equal(before, _host.Dump());

        // Without a Content-Length (chunked), the limit holds all the same.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/markers") { Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big))) };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var second = await _host.Http.SendAsync(chunked);
        await ApiHost.AssertProblemAsync(second, 413, "64 KiB");
        Assert.Equal(before, _host.Dump());
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_by_its_content_type_is_refused_with_415()
    {
        var before = _host.Dump();
        using var response = await _host.PostAsync("/api/replay", "job=load", contentType: "application/x-www-form-urlencoded");
        await ApiHost.AssertProblemAsync(response, 415, "send application/json");
        Assert.Equal(before, _host.Dump());
    }

    [Fact]
    public async Task Trigger_leaves_a_request_on_the_CLI_path_and_answers_202_with_its_id_and_url()
    {
        using var response = await _host.PostAsync("/api/runs/load/20190313/trigger", "{\"params\": {\"region\": \"us\"}}");
        Assert.Equal(202, (int)response.StatusCode);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = accepted.GetProperty("request").GetInt64();
        var url = accepted.GetProperty("url").GetString()!;
        Assert.Equal($"/api/requests/{id}", url);
        Assert.Equal(url, response.Headers.Location?.OriginalString);
        Assert.False(accepted.GetProperty("scheduler_running").GetBoolean());
        var request = await _host.GetJsonAsync(url);
        Assert.Equal("trigger", request.GetProperty("kind").GetString());
        Assert.Equal("load", request.GetProperty("job").GetString());
        Assert.False(request.GetProperty("taken").GetBoolean()); // no scheduler: it waits for the next `cascade run`
    }

    [Fact]
    public async Task Markers_are_written_as_cascade_done_writes_them()
    {
        using var response = await _host.PostAsync("/api/markers", "{\"job\": \"extract\", \"partition\": \"20190313..20190314\", \"meta\": {\"rows\": 12, \"by\": \"api\"}, \"params\": {\"region\": \"us\"}}");
        Assert.Equal(202, (int)response.StatusCode);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["20190313", "20190314"], accepted.GetProperty("partitions").EnumerateArray().Select(p => p.GetString()));
        var body = JsonDocument.Parse(File.ReadAllText(_host.Markers.Locate(ApiHost.Key("extract", "20190314")))).RootElement;
        Assert.Equal(12, body.GetProperty("rows").GetInt32());
        Assert.Equal("us", body.GetProperty("params").GetProperty("region").GetString());

        using var again = await _host.PostAsync("/api/markers", "{\"job\": \"extract\", \"partition\": \"20190313\", \"force\": true}");
        Assert.Equal(202, (int)again.StatusCode);
        Assert.Equal(1, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("replaced").GetInt32());
    }

    [Fact]
    public async Task Replay_dry_run_returns_the_plan_and_changes_nothing_while_a_replay_leaves_a_request()
    {
        var before = _host.Dump();
        using var dry = await _host.PostAsync("/api/replay", "{\"job\": \"load\", \"from\": \"20190312\", \"downstream\": true, \"dry_run\": true}");
        Assert.Equal(200, (int)dry.StatusCode);
        var plan = JsonDocument.Parse(await dry.Content.ReadAsStringAsync()).RootElement;
        Assert.True(plan.GetProperty("dry_run").GetBoolean());
        Assert.Equal(["load 20190312"], plan.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("job").GetString() + " " + r.GetProperty("partition").GetString()));
        Assert.Equal(before, _host.Dump());

        using var real = await _host.PostAsync("/api/replay", "{\"job\": \"load\", \"from\": \"20190312\", \"downstream\": true}");
        Assert.Equal(202, (int)real.StatusCode);
        var accepted = JsonDocument.Parse(await real.Content.ReadAsStringAsync()).RootElement;
        Assert.False(accepted.GetProperty("dry_run").GetBoolean());
        Assert.Equal(1, accepted.GetProperty("runs").GetArrayLength());
        Assert.Equal("replay", (await _host.GetJsonAsync(accepted.GetProperty("url").GetString()!)).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Backfill_and_cancel_leave_requests()
    {
        using var backfill = await _host.PostAsync("/api/backfills", "{\"from\": \"2019-03-01\", \"to\": \"2019-03-02\", \"jobs\": [\"load\"], \"max_parallel\": 2}");
        Assert.Equal(202, (int)backfill.StatusCode);
        var accepted = JsonDocument.Parse(await backfill.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("bf-", accepted.GetProperty("backfill").GetString(), StringComparison.Ordinal);
        Assert.Equal("backfill", (await _host.GetJsonAsync(accepted.GetProperty("url").GetString()!)).GetProperty("kind").GetString());

        using var cancel = await _host.PostAsync("/api/cancel", "{\"job\": \"load\", \"partition\": \"20190312\"}");
        Assert.Equal(202, (int)cancel.StatusCode);
        var cancelled = JsonDocument.Parse(await cancel.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("cancel", (await _host.GetJsonAsync(cancelled.GetProperty("url").GetString()!)).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_running_scheduler_takes_a_trigger_left_through_the_API()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        using var response = await host.PostAsync("/api/runs/load/20190313/trigger", null);
        Assert.Equal(202, (int)response.StatusCode);
        var url = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString()!;
        await host.WaitForStateAsync("load", "20190313", RunState.Succeeded, seconds: 10);
        Assert.True((await host.GetJsonAsync(url)).GetProperty("taken").GetBoolean());

        using var refused = await host.PostAsync("/api/runs/load/20190313/trigger", null);
        await ApiHost.AssertProblemAsync(refused, 409, "load 20190313 already succeeded");
    }
}
