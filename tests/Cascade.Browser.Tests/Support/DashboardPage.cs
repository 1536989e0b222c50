using Microsoft.Playwright;

namespace Cascade.Browser.Tests.Support;

/// <summary>A page of the dashboard with what it did that a test checks: dialogs opened (alert…), script errors and failed requests.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _dialogs = [];
    private readonly List<string> _errors = [];

    public DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Dialog += (_, dialog) =>
        {
            lock (_dialogs)
            {
                _dialogs.Add($"{dialog.Type}: {dialog.Message}");
            }

            _ = dialog.DismissAsync();
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add(error);
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("favicon", StringComparison.Ordinal))
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text}");
                }
            }
        };
    }

    public IPage Page { get; }

    public IReadOnlyList<string> Dialogs
    {
        get
        {
            lock (_dialogs)
            {
                return [.. _dialogs];
            }
        }
    }

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>The grid cell of a job and a day (<c>YYYYMMDD</c>).</summary>
    public ILocator Cell(string job, string day) => Page.Locator($".c[data-job=\"{job}\"][data-day=\"{day}\"]");

    /// <summary>Waits (bounded) for a job's cell of a day to show a state.</summary>
    public Task WaitForCellAsync(string job, string day, string state, float timeoutMs = 20_000) =>
        Page.WaitForSelectorAsync($".c[data-job=\"{job}\"][data-day=\"{day}\"][data-state=\"{state}\"]", new PageWaitForSelectorOptions { Timeout = timeoutMs });

    /// <summary>Writes a screenshot into docs/images of the repository (kept current by the tests).</summary>
    public async Task ScreenshotAsync(string name)
    {
        var path = Path.Combine(Repository.Root, "docs", "images", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
    }

    public async ValueTask DisposeAsync()
    {
        await _context.CloseAsync();
        await _context.DisposeAsync();
    }
}
