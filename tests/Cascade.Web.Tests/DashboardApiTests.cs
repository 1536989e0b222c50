using System.Net;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary>What the dashboard reads: the grid and DAG endpoints and its embedded files, against a real Kestrel and scheduler.</summary>
public sealed class DashboardApiTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(scheduler: true);
        await _host.WriteMarkerAsync("extract", "20190310");
        await _host.WriteMarkerAsync("extract", "20190312");
        await _host.WriteMarkerAsync("hourly", "2019031205");
        await _host.WaitForStateAsync("report", "20190310", RunState.Succeeded);
        await _host.WaitForStateAsync("report", "20190312", RunState.Succeeded);
        await _host.WaitForStateAsync("hourly", "2019031205", RunState.Succeeded);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Grid_gives_every_jobs_state_for_every_day_of_the_range_with_hours_folded_into_their_day()
    {
        var grid = await _host.GetJsonAsync("/api/grid?from=2019-03-09&to=20190312");
        Assert.Equal("20190309", grid.GetProperty("from").GetString());
        Assert.Equal("20190312", grid.GetProperty("to").GetString());
        Assert.Equal(4, grid.GetProperty("days").GetInt32());
        Assert.Equal("succeeded", grid.GetProperty("codes").GetProperty("s").GetString());
        var cells = grid.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!, j => j.GetProperty("cells").GetString()!);
        Assert.Equal(["extract", "load", "report", "hourly", "slow"], cells.Keys);
        Assert.Equal(".s.s", cells["extract"]);
        Assert.Equal(".s.s", cells["report"]);
        Assert.Equal("....", cells["slow"]);
        Assert.Equal(4 * 24, cells["hourly"].Length);
        Assert.Equal((3 * 24) + 5, cells["hourly"].IndexOf('s', StringComparison.Ordinal));
        Assert.Equal(1, cells["hourly"].Count(c => c == 's'));
    }

    [Fact]
    public async Task Grid_without_a_range_ends_at_the_latest_partition_and_spans_two_weeks()
    {
        var grid = await _host.GetJsonAsync("/api/grid");
        Assert.Equal("20190312", grid.GetProperty("to").GetString());
        Assert.Equal("20190227", grid.GetProperty("from").GetString());
        Assert.Equal(14, grid.GetProperty("days").GetInt32());
        var from = await _host.GetJsonAsync("/api/grid?from=20190310");
        Assert.Equal("20190323", from.GetProperty("to").GetString());
    }

    [Fact]
    public async Task Grid_refuses_a_bad_range_and_names_the_input()
    {
        var before = _host.Dump();
        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/api/grid?from=20190312&to=20190301"), 400, "is before from", "to");
        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/api/grid?from=20180101&to=20190312"), 400, "at most 366", "to");
        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/api/grid?from=yesterday"), 400, "yesterday", "from");
        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/api/grid?to=1&to=2"), 400, "given 2 times", "to");
        Assert.Equal(before, _host.Dump());
    }

    [Fact]
    public async Task Dag_lays_the_jobs_out_in_layers_with_each_runs_state_of_the_day()
    {
        var dag = await _host.GetJsonAsync("/api/dag/2019-03-12");
        Assert.Equal("20190312", dag.GetProperty("partition").GetString());
        var nodes = dag.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("job").GetString()!);
        Assert.Equal(0, nodes["extract"].GetProperty("layer").GetInt32());
        Assert.Equal(1, nodes["load"].GetProperty("layer").GetInt32());
        Assert.Equal(2, nodes["report"].GetProperty("layer").GetInt32());
        Assert.Equal("succeeded", nodes["report"].GetProperty("state").GetString());
        Assert.Equal("external", nodes["extract"].GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, nodes["slow"].GetProperty("state").ValueKind);
        Assert.Equal('s', nodes["hourly"].GetProperty("hours").GetString()![5]);
        Assert.Equal(3, dag.GetProperty("layers").GetInt32());
        Assert.Equal([3, 1, 1], dag.GetProperty("layer_sizes").EnumerateArray().Select(e => e.GetInt32()));
        var edges = dag.GetProperty("edges").EnumerateArray().Select(e => $"{e.GetProperty("from").GetString()}->{e.GetProperty("to").GetString()}").ToList();
        Assert.Equal(["extract->load", "load->report"], edges);

        // An hourly key shows its day; "latest" the day of the latest run.
        Assert.Equal("20190312", (await _host.GetJsonAsync("/api/dag/2019031205")).GetProperty("partition").GetString());
        Assert.Equal("20190312", (await _host.GetJsonAsync("/api/dag/latest")).GetProperty("partition").GetString());
        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/api/dag/2019-13-40"), 400, "2019-13-40", "partition");
    }

    [Fact]
    public async Task The_dashboard_is_served_from_the_binary_with_a_strict_content_security_policy()
    {
        using var page = await _host.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"/ui/app.js\"></script>", html, StringComparison.Ordinal);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

        // Every file the page names is there, and nothing is loaded from elsewhere.
        foreach (var file in new[] { "app.js", "grid.js", "run.js", "dag.js", "actions.js", "api.js", "dom.js", "states.js", "style.css", "icon.svg" })
        {
            using var asset = await _host.Http.GetAsync("/ui/" + file);
            Assert.True(asset.IsSuccessStatusCode, $"/ui/{file}: {(int)asset.StatusCode}");
            var text = await asset.Content.ReadAsStringAsync();
            Assert.DoesNotMatch(@"https?://(?!www\.w3\.org/2000/svg)", text);
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", text, StringComparison.Ordinal);
        }

        // A second load is a 304 by ETag.
        using var first = await _host.Http.GetAsync("/ui/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var cached = await _host.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);

        await ApiHost.AssertProblemAsync(await _host.Http.GetAsync("/ui/nope.js"), 404, "no file nope.js");
    }
}
