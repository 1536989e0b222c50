using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cascade.Browser.Tests.Support;
using Cascade.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Cascade.Browser.Tests;

/// <summary>
/// The figure of docs/performance.md "Dashboard grid": how long the grid of 1,000 jobs × 90 days
/// takes from navigation to its first painted frame, in headless Chromium against <c>cascade serve</c>.
/// A measurement, not a timed test: it asserts what was painted (the data, and that only the cells
/// in view are in the page), and reports the times (test output, and <c>$TMPDIR/cascade-grid-paint.txt</c>).
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class GridPaintMeasurement(BrowserFixture browser, ITestOutputHelper output)
{
    private const int DailyJobs = 980;
    private const int HourlyJobs = 20;
    private const int Days = 90;
    private const int Loads = 5;
    private static readonly DateOnly First = new(2019, 1, 1);

    [Fact]
    public async Task Grid_of_1000_jobs_by_90_days_paints_only_what_is_in_view_and_reports_its_time()
    {
        if (!browser.Available())
        {
            return;
        }

        using var ws = new TempWorkspace();
        var clock = Stopwatch.StartNew();
        var dir = ws.PathOf("big");
        Directory.CreateDirectory(Path.Combine(dir, "markers"));
        var yaml = new StringBuilder("jobs:\n");
        for (var j = 0; j < DailyJobs; j++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  job_{j:000}: {{ run: external }}\n");
        }

        for (var j = 0; j < HourlyJobs; j++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  hourly_{j:00}: {{ grain: hourly, run: external }}\n");
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "cascade.yaml"), yaml.ToString());
        var markers = 0;
        for (var d = 0; d < Days; d++)
        {
            var day = First.AddDays(d).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            for (var j = 0; j < DailyJobs; j++)
            {
                // A few days of each job left without a marker, so the grid is not one colour.
                if ((j + d) % 17 != 0)
                {
                    File.Create(Path.Combine(dir, "markers", $"job_{j:000}__{day}.done")).Dispose();
                    markers++;
                }
            }

            for (var j = 0; j < HourlyJobs; j++)
            {
                for (var h = 0; h < 24; h++)
                {
                    if ((j + d + h) % 13 != 0)
                    {
                        File.Create(Path.Combine(dir, "markers", $"hourly_{j:00}__{day}{h:00}.done")).Dispose();
                        markers++;
                    }
                }
            }
        }

        var written = clock.Elapsed;
        (await CascadeCli.RunAsync(dir, "run", "--until-idle", "-q")).AssertExitCode(0);
        var ingested = clock.Elapsed - written;
        await using var served = await ServedPipeline.StartAsync(ws, dir, "serve");

        var range = $"#/?from={First:yyyy-MM-dd}&to={First.AddDays(Days - 1):yyyy-MM-dd}";
        var paints = new List<double>();
        var datas = new List<double>();
        var fetches = new List<double>();
        var cells = 0;
        for (var i = 0; i < Loads; i++)
        {
            await using var dash = await browser.NewPageAsync(served.Url, 1600, 900);
            await dash.Page.GotoAsync("/" + range);
            await dash.WaitForCellAsync("job_001", First.AddDays(Days - 1).ToString("yyyyMMdd", CultureInfo.InvariantCulture), "succeeded");
            double[] marks = [];
            for (var tries = 0; tries < 200 && marks.Length < 3; tries++)
            {
                marks = await dash.Page.EvaluateAsync<double[]>(
                    "(() => { const m = (n) => performance.getEntriesByName(n)[0]; const g = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/grid')); " +
                    "return m('cascade:grid-painted') && g ? [m('cascade:grid-painted').startTime, m('cascade:grid-data').startTime, g.responseEnd - g.requestStart] : []; })()");
                if (marks.Length < 3)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System);
                }
            }

            Assert.Equal(3, marks.Length);
            paints.Add(marks[0]);
            datas.Add(marks[1]);
            fetches.Add(marks[2]);
            cells = await dash.Page.Locator(".c").CountAsync();
            Assert.Empty(dash.Errors);
        }

        // Scrolling: the time to the next painted frame after a jump to another part of the grid.
        await using (var dash = await browser.NewPageAsync(served.Url, 1600, 900))
        {
            await dash.Page.GotoAsync("/" + range);
            await dash.WaitForCellAsync("job_001", First.AddDays(Days - 1).ToString("yyyyMMdd", CultureInfo.InvariantCulture), "succeeded");
            var scrolls = await dash.Page.EvaluateAsync<double[]>(
                "(async () => { const b = document.querySelector('.grid-body'); const out = []; " +
                "for (let i = 0; i < 20; i++) { const t = performance.now(); b.scrollTop = (i * 7919) % b.scrollHeight; b.scrollLeft = (i * 104729) % b.scrollWidth; " +
                "await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); out.push(performance.now() - t); } " +
                "return out.concat(performance.getEntriesByName('cascade:grid-render').slice(-20).map((m) => m.duration)); })()");
            var frames = scrolls.Take(20).Order().ToList();
            var renders = scrolls.Skip(20).Order().ToList();
            Report(markers, written, ingested, paints, datas, fetches, cells, frames, renders);
        }

        // Virtualised: a screen's worth of cells, not 90,000.
        Assert.InRange(cells, 100, 5_000);
    }

    private void Report(int markers, TimeSpan written, TimeSpan ingested, List<double> paints, List<double> datas, List<double> fetches, int cells, List<double> frames, List<double> renders)
    {
        static string Ms(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));
        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        var text = string.Join('\n',
            $"grid {DailyJobs + HourlyJobs} jobs ({HourlyJobs} hourly) x {Days} days; {markers} markers written in {written.TotalSeconds:0.0} s, recorded by run --until-idle in {ingested.TotalSeconds:0.0} s",
            $"navigation -> grid painted: median {Median(paints):0} ms (loads: {Ms(paints)})",
            $"navigation -> grid data parsed: median {Median(datas):0} ms (loads: {Ms(datas)})",
            $"GET /api/grid (request -> last byte): median {Median(fetches):0} ms (loads: {Ms(fetches)})",
            $"cells in the page: {cells} (of {(DailyJobs + HourlyJobs) * Days}); viewport 1600x900",
            $"scroll jump -> next painted frame: median {Median(frames):0.0} ms, max {frames[^1]:0.0} ms (20 jumps); the grid's own render of a jump: median {Median(renders):0.0} ms, max {(renders.Count > 0 ? renders[^1] : 0):0.0} ms",
            $"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)",
            $"cascade: {(CascadeCli.NativeBinary ?? "dotnet " + CascadeCli.DllPath)}");
        output.WriteLine(text);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "cascade-grid-paint.txt"), text + "\n");
    }
}
