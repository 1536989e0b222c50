using System.Diagnostics;
using Cascade.Browser.Tests.Support;
using Microsoft.Playwright;

namespace Cascade.Browser.Tests;

/// <summary>The grid of jobs × days on the demo, as <c>cascade run</c> serves it.</summary>
[Collection(BrowserTests.Name)]
public sealed class GridTests(BrowserFixture browser)
{
    private const string DemoRange = "#/?from=2019-03-01&to=2019-03-14";

    [Fact]
    public async Task The_grid_renders_the_demo_with_a_shape_and_a_colour_per_state()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync();
        await using var dash = await browser.NewPageAsync(demo.Url);
        await dash.Page.GotoAsync("/" + DemoRange);

        // The chain runs while the page is open: its last job arrives live.
        await dash.WaitForCellAsync("bi_import", "20190312", "succeeded");
        foreach (var job in new[] { "game_logs", "player_entry", "sessions", "payments", "revenue", "bi_import" })
        {
            await dash.WaitForCellAsync(job, "20190311", "succeeded");
        }

        await dash.WaitForCellAsync("revenue", "20190313", "waiting");
        Assert.Equal("none", await dash.Cell("bi_import", "20190313").GetAttributeAsync("data-state"));

        // Every job has a row header; the hourly job is one cell per day, drawn as a 24-slot bar.
        var names = await dash.Page.Locator(".g-name").AllInnerTextsAsync();
        Assert.Equal(6, names.Count);
        Assert.Contains(names, n => n.StartsWith("payments", StringComparison.Ordinal) && n.Contains("hourly", StringComparison.Ordinal));
        Assert.Equal(1, await dash.Cell("payments", "20190312").Locator("canvas").CountAsync());
        Assert.Contains("24 succeeded", await dash.Cell("payments", "20190312").GetAttributeAsync("aria-label"), StringComparison.Ordinal);

        // A daily cell's shape is drawn by CSS from its state (colour-blind safe): succeeded is a filled square, waiting a dashed one.
        var square = await dash.Cell("sessions", "20190312").EvaluateAsync<string>("e => getComputedStyle(e, '::before').borderRadius + '|' + getComputedStyle(e, '::before').backgroundColor");
        var dashed = await dash.Cell("revenue", "20190313").EvaluateAsync<string>("e => getComputedStyle(e, '::before').borderTopStyle");
        Assert.StartsWith("2px|", square, StringComparison.Ordinal);
        Assert.Equal("dashed", dashed);

        // Keyboard: the grid is one tab stop; arrows move; Enter opens the run page.
        await dash.Cell("sessions", "20190312").FocusAsync();
        await dash.Page.Keyboard.PressAsync("ArrowDown");
        Assert.Equal("payments", await dash.Page.EvaluateAsync<string>("document.activeElement.dataset.job"));
        await dash.Page.Keyboard.PressAsync("ArrowUp");
        await dash.Page.Keyboard.PressAsync("Enter");
        await dash.Page.WaitForURLAsync("**/#/runs/sessions/20190312");
        await dash.Page.Locator("h1 .badge[data-state=\"succeeded\"]").WaitForAsync();

        // Filters: by name and by state, kept in the URL.
        await dash.Page.GotoAsync("/" + DemoRange + "&state=waiting");
        await dash.WaitForCellAsync("revenue", "20190313", "waiting");
        Assert.Equal(1, await dash.Page.Locator(".g-name").CountAsync());
        await dash.Page.GotoAsync("/" + DemoRange + "&job=sess");
        await dash.WaitForCellAsync("sessions", "20190312", "succeeded");
        Assert.Equal(["sessions"], await dash.Page.Locator(".g-name").AllInnerTextsAsync());

        // Screenshots for the docs, light and dark.
        await dash.Page.GotoAsync("/" + DemoRange);
        await dash.WaitForCellAsync("bi_import", "20190312", "succeeded");
        await dash.ScreenshotAsync("grid.png");
        await dash.Page.ClickAsync("#theme");
        await dash.Page.Locator("html[data-theme=dark]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await dash.WaitForCellAsync("bi_import", "20190312", "succeeded");
        await dash.ScreenshotAsync("grid-dark.png");
        Assert.Empty(dash.Errors);
    }

    [Fact]
    public async Task A_marker_written_on_disk_turns_its_cell_to_succeeded_within_a_second_without_a_reload()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync();
        await using var dash = await browser.NewPageAsync(demo.Url);
        await dash.Page.GotoAsync("/" + DemoRange);
        await dash.WaitForCellAsync("bi_import", "20190312", "succeeded");
        Assert.Equal("none", await dash.Cell("game_logs", "20190313").GetAttributeAsync("data-state"));
        var navigations = 0;
        dash.Page.FrameNavigated += (_, frame) => navigations += frame == dash.Page.MainFrame ? 1 : 0;

        var clock = Stopwatch.StartNew();
        var seen = dash.WaitForCellAsync("game_logs", "20190313", "succeeded", timeoutMs: 1_000);
        demo.WriteMarker("game_logs", "20190313", """{"files": 12}""");
        await seen;
        var took = clock.Elapsed;
        Console.WriteLine($"marker written -> cell succeeded in {took.TotalMilliseconds:0} ms");
        Assert.True(took < TimeSpan.FromSeconds(1), $"the cell turned succeeded after {took.TotalMilliseconds:0} ms");
        Assert.Equal(0, navigations);

        // What the marker started follows live too.
        await dash.WaitForCellAsync("player_entry", "20190313", "succeeded");
        Assert.Empty(dash.Errors);
    }
}
