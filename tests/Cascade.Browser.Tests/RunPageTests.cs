using Cascade.Browser.Tests.Support;
using Microsoft.Playwright;

namespace Cascade.Browser.Tests;

/// <summary>The run page, its log and its actions, and that no value ever becomes markup.</summary>
[Collection(BrowserTests.Name)]
public sealed class RunPageTests(BrowserFixture browser)
{
    private const string Hostile = "<img src=x onerror=alert(1)>";

    [Fact]
    public async Task The_replay_dialog_shows_the_dry_run_plan_and_applies_it_on_confirm()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync();
        await demo.WaitUntilAsync(async () => (await demo.RunAsync("bi_import", "20190312")).State == "succeeded", TimeSpan.FromSeconds(60), "the demo chain");
        await using var dash = await browser.NewPageAsync(demo.Url);
        await dash.Page.GotoAsync("/#/runs/sessions/20190312");
        await dash.Page.Locator("h1 .badge[data-state=\"succeeded\"]").WaitForAsync();

        await dash.Page.ClickAsync("[data-action=replay]");
        var plan = dash.Page.Locator("dialog [data-plan] table");
        await plan.WaitForAsync();
        var text = await plan.InnerTextAsync();
        Assert.Contains("sessions 2019-03-12", text, StringComparison.Ordinal);
        Assert.Contains("bi_import 2019-03-12", text, StringComparison.Ordinal); // downstream, checked by default
        Assert.Contains("1 → 2", text, StringComparison.Ordinal);
        Assert.Equal("Replay 2 runs", await dash.Page.Locator("[data-action=confirm-replay]").InnerTextAsync());

        // Nothing changed yet: the plan is a dry run.
        Assert.Equal(("succeeded", 1), await demo.RunAsync("sessions", "20190312"));
        await dash.ScreenshotAsync("replay.png");

        await dash.Page.ClickAsync("[data-action=confirm-replay]");
        var note = dash.Page.Locator(".toast", new PageLocatorOptions { HasText = "Replay of 2 run(s)" });
        await note.WaitForAsync();
        Assert.Equal(1, await note.Locator("a[href^=\"/api/requests/\"]").CountAsync());
        Assert.Equal(1, await note.Locator("a[href=\"#/runs/bi_import/20190312\"]").CountAsync());
        await note.GetByText("taken by the scheduler").WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });

        // The replay ran: generation 2, succeeded, shown live on the page (no reload).
        await demo.WaitUntilAsync(async () => await demo.RunAsync("bi_import", "20190312") == ("succeeded", 2), TimeSpan.FromSeconds(60), "the replay of bi_import");
        await dash.Page.Locator("section", new PageLocatorOptions { HasText = "Generations" }).Locator("td", new LocatorLocatorOptions { HasTextString = "2" }).First.WaitForAsync();
        Assert.Empty(dash.Errors);
    }

    [Fact]
    public async Task Marker_metadata_with_markup_shows_as_text_and_runs_no_script()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync(dir =>
            File.WriteAllText(Path.Combine(dir, "markers", "game_logs__20190314.done"),
                "{\"note\": \"" + Hostile + "\", \"files\": 3, \"params\": {\"region\": \"<script>alert(2)</script>\"}}"));
        await demo.WaitUntilAsync(async () => (await demo.RunAsync("game_logs", "20190314")).State == "succeeded", TimeSpan.FromSeconds(60), "the marker to be seen");
        await using var dash = await browser.NewPageAsync(demo.Url);
        await dash.Page.GotoAsync("/#/runs/game_logs/20190314");
        var meta = dash.Page.Locator("[data-kv=meta]");
        await meta.WaitForAsync();
        Assert.Contains(Hostile, await meta.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await dash.Page.Locator("main img, main script").CountAsync());

        // The downstream run got the marker's param as its own: shown as text there too.
        await demo.WaitUntilAsync(async () => (await demo.RunAsync("player_entry", "20190314")).State is not null, TimeSpan.FromSeconds(60), "player_entry 20190314");
        await dash.Page.GotoAsync("/#/runs/player_entry/20190314");
        await dash.Page.Locator("[data-kv=params] td", new PageLocatorOptions { HasText = "<script>alert(2)</script>" }).WaitForAsync();

        Assert.Equal(0, await dash.Page.Locator("main img, main script").CountAsync());
        Assert.Empty(dash.Dialogs);
        Assert.Empty(dash.Errors);
    }

    [Fact]
    public async Task The_run_page_shows_a_running_jobs_log_lines_as_they_are_written()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var served = await ServedPipeline.OfAsync(
            """
            jobs:
              slow:
                run: { command: [./jobs/slow.sh] }
            """,
            new Dictionary<string, string>
            {
                ["jobs/slow.sh"] = "#!/bin/sh\necho \"first line of $CASCADE_PARTITION\"\nwhile [ ! -f release ]; do sleep 0.02; done\necho \"second line\"\n",
            });
        (await served.CliAsync("trigger", "slow", "20190312")).AssertExitCode(0);
        await using var dash = await browser.NewPageAsync(served.Url);
        await dash.Page.GotoAsync("/#/runs/slow/20190312");
        var log = dash.Page.Locator("[data-log]");
        await dash.Page.Locator("[data-log]", new PageLocatorOptions { HasText = "first line of 20190312" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        Assert.Equal("running", (await served.RunAsync("slow", "20190312")).State);
        Assert.DoesNotContain("second line", await log.TextContentAsync() ?? string.Empty, StringComparison.Ordinal);
        Assert.Contains("live", await dash.Page.Locator("section[aria-labelledby=log-title] [role=status]").InnerTextAsync(), StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(served.Dir, "release"), string.Empty);
        await dash.Page.Locator("[data-log]", new PageLocatorOptions { HasText = "second line" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        await dash.Page.Locator("h1 .badge[data-state=\"succeeded\"]").WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        Assert.Empty(dash.Errors);
    }

    [Fact]
    public async Task The_run_page_says_why_and_the_DAG_shows_the_day_with_each_runs_state()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync();
        await demo.WaitUntilAsync(async () => (await demo.RunAsync("revenue", "20190313")).State == "waiting", TimeSpan.FromSeconds(60), "revenue 20190313 to wait");
        await using var dash = await browser.NewPageAsync(demo.Url);

        // Why revenue 20190313 waits: yesterday's revenue is done (with its time), the day's inputs are missing.
        await dash.Page.GotoAsync("/#/runs/revenue/20190313");
        var inputs = dash.Page.Locator("table[data-inputs]");
        await inputs.WaitForAsync();
        var met = dash.Page.Locator("table[data-inputs] tr[data-met=true]");
        Assert.Equal(1, await met.CountAsync());
        Assert.Contains("revenue 2019-03-12", await met.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Matches(@"2019|20\d\d-\d\d-\d\d \d\d:\d\d:\d\dZ", await met.Locator("td").Last.InnerTextAsync());
        Assert.Equal(25, await dash.Page.Locator("table[data-inputs] tr[data-met=false]").CountAsync()); // player_entry and 24 hours of payments
        Assert.Contains("wait deadline", await dash.Page.Locator("dl.facts").InnerTextAsync(), StringComparison.Ordinal);
        await dash.ScreenshotAsync("run.png");

        // A finished run: its attempt with exit code and duration, and its metadata.
        await dash.Page.GotoAsync("/#/runs/bi_import/20190312");
        await dash.Page.Locator("h1 .badge[data-state=\"succeeded\"]").WaitForAsync();
        var attempt = dash.Page.Locator("section[aria-labelledby=attempts] tbody tr");
        Assert.Equal(1, await attempt.CountAsync());
        Assert.Equal("0", await attempt.Locator("td").Nth(5).InnerTextAsync()); // the exit code
        Assert.Matches(@"^\d+\.\d s$", await attempt.Locator("td").Nth(4).InnerTextAsync()); // how long it took
        await dash.Page.Locator("[data-log]", new PageLocatorOptions { HasText = "BI report for 2019-03-12" }).WaitForAsync();
        await dash.ScreenshotAsync("run-succeeded.png");

        // The DAG of the 12th: every job laid out in layers, with its state.
        await dash.Page.GotoAsync("/#/dag/20190312");
        var nodes = dash.Page.Locator("svg.dag a.node");
        await nodes.First.WaitForAsync();
        Assert.Equal(6, await nodes.CountAsync());
        Assert.Equal(6, await dash.Page.Locator("svg.dag a.node[data-state=succeeded]").CountAsync());
        Assert.Contains("24 succeeded", await dash.Page.Locator("svg.dag a.node[data-job=payments]").GetAttributeAsync("aria-label"), StringComparison.Ordinal);
        var x = await dash.Page.EvaluateAsync<double[]>("['game_logs','player_entry','sessions','bi_import'].map(j => document.querySelector(`a.node[data-job=${j}] rect.box`).x.baseVal.value)");
        Assert.True(x[0] < x[1] && x[1] < x[2] && x[2] < x[3], $"layers left to right: {string.Join(", ", x)}");
        await dash.ScreenshotAsync("dag.png");

        // Keyboard: a node is a link; Enter opens its run.
        await dash.Page.Locator("svg.dag a.node[data-job=sessions]").FocusAsync();
        await dash.Page.Keyboard.PressAsync("Enter");
        await dash.Page.WaitForURLAsync("**/#/runs/sessions/20190312");
        Assert.Empty(dash.Errors);
    }
}
