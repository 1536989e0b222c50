using Microsoft.Playwright;

namespace Cascade.Browser.Tests.Support;

/// <summary>
/// One headless Debian Chromium (<c>/usr/bin/chromium</c>, installed by scripts/test-tools.sh)
/// driven by Playwright for the whole test collection; never a browser download. Without Chromium
/// the tests fail under CI=true and are passed over (with a note) elsewhere.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>Whether the browser runs; under CI=true a missing Chromium fails the test.</summary>
    public bool Available()
    {
        if (Browser is not null)
        {
            return true;
        }

        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"{Chromium} is missing (apt-get install chromium; scripts/test-tools.sh does it): CI must run the browser tests");
        Console.WriteLine($"browser test passed over: {Chromium} is missing (apt-get install chromium)");
        return false;
    }

    /// <summary>A fresh page (its own context: no cache, storage or cookies shared) of the given size, that records dialogs and page errors.</summary>
    public async Task<DashboardPage> NewPageAsync(string baseUrl, int width = 1280, int height = 720, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = scheme,
        });
        var page = await context.NewPageAsync();
        return new DashboardPage(context, page);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
