using Cascade.Browser.Tests.Support;
using Microsoft.Playwright;

namespace Cascade.Browser.Tests;

/// <summary>Actions on a server that has an API token: refused without it, sent with it once the user enters it.</summary>
[Collection(BrowserTests.Name)]
public sealed class ActionTests(BrowserFixture browser)
{
    private const string Token = "s3cret-token-for-the-test";

    [Fact]
    public async Task An_action_is_refused_without_the_token_and_sent_with_it_once_entered_for_the_tab()
    {
        if (!browser.Available())
        {
            return;
        }

        await using var demo = await ServedPipeline.DemoAsync(environment: new Dictionary<string, string> { ["CASCADE_API_TOKEN"] = Token });
        await demo.WaitUntilAsync(async () => (await demo.RunAsync("revenue", "20190313")).State == "waiting", TimeSpan.FromSeconds(60), "the demo chain");
        await using var dash = await browser.NewPageAsync(demo.Url);
        await dash.Page.GotoAsync("/#/runs/revenue/20190313");
        await dash.Page.Locator("h1 .badge[data-state=\"waiting\"]").WaitForAsync();

        // Without the token: the server refuses, the note says why and offers to enter it; nothing changed.
        await dash.Page.ClickAsync("[data-action=trigger]");
        await dash.Page.ClickAsync("[data-action=confirm-trigger]");
        var refused = dash.Page.Locator(".toast.bad", new PageLocatorOptions { HasText = "The trigger was refused" });
        await refused.WaitForAsync();
        Assert.Contains("CASCADE_API_TOKEN", await refused.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("waiting", (await demo.RunAsync("revenue", "20190313")).State);

        // The token, entered once, is kept for the tab and sent with the next action.
        await refused.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Enter the API token" }).ClickAsync();
        await dash.Page.Locator("dialog input[type=password]").FillAsync(Token);
        await dash.Page.Locator("dialog").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Keep for this tab" }).ClickAsync();
        Assert.Equal(Token, await dash.Page.EvaluateAsync<string>("sessionStorage.getItem('cascade.api-token')"));
        await dash.Page.ClickAsync("[data-action=trigger]");
        await dash.Page.ClickAsync("[data-action=confirm-trigger]");
        var note = dash.Page.Locator(".toast", new PageLocatorOptions { HasText = "Triggered revenue 2019-03-13" });
        await note.WaitForAsync();
        Assert.Equal(1, await note.Locator("a[href=\"#/runs/revenue/20190313\"]").CountAsync());
        await note.GetByText("taken by the scheduler").WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });

        // The trigger ran the job without its inputs (as `cascade trigger`); the page follows it live.
        await dash.Page.Locator("h1 .badge[data-state=\"succeeded\"], h1 .badge[data-state=\"failed\"], h1 .badge[data-state=\"running\"], h1 .badge[data-state=\"queued\"]").First.WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        Assert.NotEqual("waiting", (await demo.RunAsync("revenue", "20190313")).State);
        Assert.Empty(dash.Dialogs);
    }
}
