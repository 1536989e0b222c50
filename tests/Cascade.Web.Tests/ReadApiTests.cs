using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary>The reads against a real Kestrel on 127.0.0.1 and a real state file filled by a real scheduler.</summary>
public sealed class ReadApiTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(scheduler: true);
        foreach (var day in new[] { "20190310", "20190311", "20190312" })
        {
            await _host.WriteMarkerAsync("extract", day);
        }

        foreach (var day in new[] { "20190310", "20190311", "20190312" })
        {
            await _host.WaitForStateAsync("report", day, RunState.Succeeded);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Jobs_lists_every_job_with_its_grain_inputs_and_runs_counted_by_state()
    {
        var jobs = await _host.GetJsonAsync("/api/jobs");
        Assert.Equal(["extract", "load", "report", "hourly", "slow"], jobs.EnumerateArray().Select(j => j.GetProperty("name").GetString()));
        var load = jobs[1];
        Assert.Equal("daily", load.GetProperty("grain").GetString());
        Assert.Equal("command", load.GetProperty("kind").GetString());
        Assert.Equal("extract", load.GetProperty("after")[0].GetProperty("job").GetString());
        Assert.Equal(JsonValueKind.Null, load.GetProperty("schedule").ValueKind);
        Assert.Equal(3, load.GetProperty("counts").GetProperty("succeeded").GetInt32());
        Assert.Equal("hourly", jobs[3].GetProperty("grain").GetString());
    }

    [Fact]
    public async Task Runs_are_paged_newest_partition_first_and_the_cursor_continues_without_overlap()
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _host.GetJsonAsync("/api/runs?limit=4" + (cursor is null ? string.Empty : "&cursor=" + cursor));
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("partition").GetString() + " " + r.GetProperty("job").GetString()));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages); // 9 runs by 4
        Assert.Equal(9, seen.Count);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal("20190312 extract", seen[0]);
        Assert.Equal(seen.OrderByDescending(s => s[..8], StringComparer.Ordinal).ThenBy(s => s[9..], StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task Runs_filter_by_job_state_partition_and_range()
    {
        var byJob = await _host.GetJsonAsync("/api/runs?job=load");
        Assert.All(byJob.GetProperty("runs").EnumerateArray(), r => Assert.Equal("load", r.GetProperty("job").GetString()));
        Assert.Equal(3, byJob.GetProperty("runs").GetArrayLength());

        var range = await _host.GetJsonAsync("/api/runs?from=2019-03-11&to=20190311&state=succeeded");
        Assert.Equal(3, range.GetProperty("runs").GetArrayLength());
        Assert.All(range.GetProperty("runs").EnumerateArray(), r => Assert.Equal("20190311", r.GetProperty("partition").GetString()));

        var one = await _host.GetJsonAsync("/api/runs?partition=20190310&job=report");
        var run = Assert.Single(one.GetProperty("runs").EnumerateArray());
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, one.GetProperty("next_cursor").ValueKind);

        var none = await _host.GetJsonAsync("/api/runs?state=failed");
        Assert.Equal(0, none.GetProperty("runs").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/runs?job=nope", 404, "no job 'nope'", "job")]
    [InlineData("/api/runs?partition=2019-13-40", 400, "2019-13-40", "partition")]
    [InlineData("/api/runs?state=cancelled", 400, "state 'cancelled' is not a state", "state")]
    [InlineData("/api/runs?limit=0", 400, "limit '0' must be a whole number from 1 to 1000", "limit")]
    [InlineData("/api/runs?limit=many", 400, "limit 'many'", "limit")]
    [InlineData("/api/runs?cursor=%21%21", 400, "is not a cursor", "cursor")]
    [InlineData("/api/runs?from=20190312&to=20190310", 400, "before from", "to")]
    [InlineData("/api/runs?job=load&job=report", 400, "job is given 2 times", "job")]
    [InlineData("/api/runs/nope/20190312", 404, "no job 'nope'", "job")]
    [InlineData("/api/runs/load/2019031", 400, "2019031", "partition")]
    [InlineData("/api/runs/load/2019031205", 400, "job 'load' is daily: give a partition like 20190312", "partition")]
    [InlineData("/api/runs/nope/20190312/logs", 404, "no job 'nope'", "job")]
    [InlineData("/api/runs/load/20190399/logs", 400, "20190399", "partition")]
    [InlineData("/api/runs/load/20190401/logs", 404, "no run of load 20190401 yet", null)]
    [InlineData("/api/runs/load/20190312/logs?attempt=2", 404, "has attempts 1..1, not 2", "attempt")]
    [InlineData("/api/runs/load/20190312/logs?attempt=x", 400, "attempt 'x'", "attempt")]
    [InlineData("/api/runs/load/20190312/logs?generation=5", 404, "not 5", "generation")]
    [InlineData("/api/runs/extract/20190312/logs", 404, "was done by its marker", null)]
    [InlineData("/api/requests/x", 400, "is not a request id", "id")]
    [InlineData("/api/requests/999", 404, "no request 999", "id")]
    [InlineData("/api/events?after=soon", 400, "after 'soon' is not an event id", "after")]
    [InlineData("/api/nothing", 404, "no endpoint GET /api/nothing", null)]
    public async Task Bad_reads_are_problems_that_name_the_cause(string path, int status, string detail, string? field)
    {
        using var response = await _host.Http.GetAsync(path);
        await ApiHost.AssertProblemAsync(response, status, detail, field);
    }

    [Fact]
    public async Task Run_details_show_inputs_with_why_attempts_with_exit_codes_and_generations()
    {
        var details = await _host.GetJsonAsync("/api/runs/report/20190312");
        Assert.Equal("succeeded", details.GetProperty("run").GetProperty("state").GetString());
        var input = Assert.Single(details.GetProperty("inputs").EnumerateArray());
        Assert.Equal("load", input.GetProperty("job").GetString());
        Assert.True(input.GetProperty("met").GetBoolean());
        Assert.StartsWith("done ", input.GetProperty("why").GetString(), StringComparison.Ordinal);
        var attempt = Assert.Single(details.GetProperty("attempts").EnumerateArray());
        Assert.Equal(0, attempt.GetProperty("exit_code").GetInt32());
        Assert.Equal("succeeded", attempt.GetProperty("outcome").GetString());
        Assert.Single(details.GetProperty("generations").EnumerateArray());

        var waiting = await _host.GetJsonAsync("/api/runs/load/20190401");
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("run").ValueKind);
        var missing = Assert.Single(waiting.GetProperty("inputs").EnumerateArray());
        Assert.False(missing.GetProperty("met").GetBoolean());
        Assert.Equal("missing: no marker yet", missing.GetProperty("why").GetString());
    }

    [Fact]
    public async Task Logs_of_a_finished_attempt_are_its_output()
    {
        using var response = await _host.Http.GetAsync("/api/runs/load/20190312/logs");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("false", response.Headers.GetValues("X-Cascade-Live").Single());
    }

    [Fact]
    public async Task Health_and_readiness_answer()
    {
        Assert.Equal("ok", (await _host.GetJsonAsync("/healthz")).GetProperty("status").GetString());
        var ready = await _host.GetJsonAsync("/readyz");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("scheduler").GetBoolean());
    }
}
