using Cascade.Core.Scheduling;
using Cascade.Engine.Runtime;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Integration;

/// <summary>
/// A producer that writes its marker in place (not by rename) may be read half-written. A body that
/// does not parse is read again until it parses, and judged invalid only once it stops changing
/// (<see cref="SettlingMarkers"/>): the downstream run starts with the producer's params.
/// </summary>
public sealed class InPlaceMarkerTests
{
    private const string Yaml = """
        jobs:
          src: {run: external}
          dst:
            after: [src]
            params: {x: default}
            run: {command: [sh, -c, 'printf "%s" "$1" > got.txt', sh, "{params.x}"]}
        """;

    [Fact]
    public async Task Regression_8_03_a_marker_written_in_place_slowly_starts_downstream_with_the_producers_params()
    {
        await using var p = TempPipeline.Create(Yaml);
        await p.StartAsync();
        var path = Path.Combine(p.Dir, "markers", "src__20190312.done");

        await using (var producer = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            await producer.WriteAsync("{\"params\": {\"x\": \""u8.ToArray());
            await producer.FlushAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System); // the producer's pause, mid-body
            await producer.WriteAsync("from-producer\"}}"u8.ToArray());
        }

        await p.WaitForStateAsync("dst", "20190312", RunState.Succeeded);
        Assert.Equal("from-producer", p.ReadFile("got.txt"));
        Assert.Empty((await p.RunAsync("src", "20190312"))!.Warnings);
    }

    [Fact]
    public async Task Regression_8_03_a_body_that_stays_invalid_is_judged_once_it_stops_changing_and_the_marker_counts_done()
    {
        await using var p = TempPipeline.Create(Yaml);
        await p.StartAsync();
        var path = Path.Combine(p.Dir, "markers", "src__20190312.done");
        await File.WriteAllTextAsync(path, "{\"params\": {\"x\": ");
        var written = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);

        await p.WaitForStateAsync("dst", "20190312", RunState.Succeeded, seconds: SettlingMarkers.Bound.TotalSeconds + 5);
        var src = (await p.RunAsync("src", "20190312"))!;
        Assert.Contains(src.Warnings, w => w.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Equal("default", p.ReadFile("got.txt"));
        Assert.True(src.FinishedAt - written >= SettlingMarkers.QuietPeriod - TimeSpan.FromMilliseconds(20), $"judged {(src.FinishedAt - written)?.TotalMilliseconds} ms after the write, before the quiet period");
    }
}
