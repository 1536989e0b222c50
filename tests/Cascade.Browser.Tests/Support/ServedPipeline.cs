using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.Browser.Tests.Support;

/// <summary>
/// A pipeline in a temp folder served by a real <c>cascade run</c> (or <c>serve</c>) process on
/// 127.0.0.1, port 0 (the address is read from what it prints): the dashboard exactly as users
/// open it. Disposing stops the process and deletes the folder.
/// </summary>
public sealed partial class ServedPipeline : IAsyncDisposable
{
    private readonly TempWorkspace _ws;

    private ServedPipeline(TempWorkspace ws, string dir, CliProcess process, string url)
    {
        _ws = ws;
        Dir = dir;
        Process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Dir { get; }

    public CliProcess Process { get; }

    public string Url { get; }

    public HttpClient Http { get; }

    /// <summary><c>cascade init demo</c>, then <c>cascade run</c> serving it (the chain runs for the days whose game logs are there).</summary>
    public static async Task<ServedPipeline> DemoAsync(Action<string>? beforeRun = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var ws = new TempWorkspace();
        (await CascadeCli.RunAsync(ws.Root, "init", "demo")).AssertExitCode(0);
        var dir = ws.PathOf("demo");
        beforeRun?.Invoke(dir);
        return await StartAsync(ws, dir, "run", environment);
    }

    /// <summary>A pipeline of its own (<paramref name="files"/>: relative path → content; <c>.sh</c> files are executable), served by <c>cascade run</c>.</summary>
    public static Task<ServedPipeline> OfAsync(string yaml, IReadOnlyDictionary<string, string>? files = null, string command = "run")
    {
        var ws = new TempWorkspace();
        ws.Write("p/cascade.yaml", yaml);
        Directory.CreateDirectory(ws.PathOf("p", "markers"));
        foreach (var (path, content) in files ?? new Dictionary<string, string>())
        {
            if (path.EndsWith(".sh", StringComparison.Ordinal))
            {
                ws.WriteScript("p/" + path, content);
            }
            else
            {
                ws.Write("p/" + path, content);
            }
        }

        return StartAsync(ws, ws.PathOf("p"), command);
    }

    /// <summary>Starts <c>cascade run</c> or <c>cascade serve</c> in <paramref name="dir"/> on a free loopback port.</summary>
    public static async Task<ServedPipeline> StartAsync(TempWorkspace ws, string dir, string command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = CascadeCli.Start(dir, environment ?? new Dictionary<string, string>(), command, "--urls", "http://127.0.0.1:0");
        await process.WaitForOutputAsync(o => Listening().IsMatch(o), "the HTTP API to listen", TimeSpan.FromSeconds(60));
        var url = Listening().Match(process.StdOut + process.StdErr).Groups[1].Value;
        var served = new ServedPipeline(ws, dir, process, url);
        await served.WaitUntilAsync(async () => (await served.Http.GetAsync("/readyz")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the scheduler to be ready");
        return served;
    }

    /// <summary>Writes a marker as producers do (<c>.tmp</c>, then a rename); returns when the rename is done.</summary>
    public void WriteMarker(string job, string partition, string body = "")
    {
        var path = Path.Combine(Dir, "markers", $"{job}__{partition}.done");
        File.WriteAllText(path + ".tmp", body);
        File.Move(path + ".tmp", path);
    }

    /// <summary>Runs another <c>cascade</c> command in the pipeline's folder (trigger, done…).</summary>
    public Task<CliResult> CliAsync(params string[] args) => CascadeCli.RunAsync(Dir, args);

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        var text = await Http.GetStringAsync(path);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The state of the latest generation of a run, as the API tells it (null: no run).</summary>
    public async Task<(string? State, int Generation)> RunAsync(string job, string partition)
    {
        var details = await GetJsonAsync($"/api/runs/{job}/{partition}");
        var run = details.GetProperty("run");
        return run.ValueKind == JsonValueKind.Null ? (null, 0) : (run.GetProperty("state").GetString(), run.GetProperty("generation").GetInt32());
    }

    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan bound, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not answering yet
            }

            if (clock.Elapsed > bound)
            {
                Assert.Fail($"timed out after {bound.TotalSeconds:0}s waiting for {what}\n--- cascade stdout ---\n{Process.StdOut}\n--- stderr ---\n{Process.StdErr}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        _ws.Dispose();
    }

    [GeneratedRegex(@"HTTP API on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
