using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;

namespace Cascade.Bench.Scenarios;

/// <summary>
/// Scenario 7: a marker renamed into the watched folder → the Server-Sent Event of the downstream
/// run it makes ready, as an HTTP client subscribed to <c>GET /api/events</c> of a running
/// <c>cascade run --urls</c> process receives it. The native binary when <c>--cascade PATH</c> is
/// given, else the JIT build beside the bench.
/// </summary>
internal static class SseScenario
{
    public const string Name = "sse";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static async Task<ScenarioReport> RunAsync(BenchOptions o)
    {
        var variant = CascadeVariant.From(o.Cascade)[0];
        var warmup = o.Quick ? 5 : 20;
        var measured = o.Quick ? 30 : 300;
        var report = new ScenarioReport(Name, "Live events latency", $"""
            Pipeline `src` (external) → `dst` (after src, command `true`). `cascade run --urls http://127.0.0.1:0 -q` as a
            process ({variant.Label}: {variant.CommandLine}); one HTTP client (HttpClient, response streamed) subscribed to
            `GET /api/events` for the whole run, as a dashboard is, reading `event: run` blocks line by line on its own task and
            stamping each with Stopwatch.GetTimestamp() when its blank line arrives. Per event: `src__DAY.done.tmp` written,
            the timestamp taken just before its rename to `src__DAY.done` (one new day each), then the time until the first
            event of `dst DAY` (its run made ready: queued or running, whichever change number comes first) and until the
            event of `src DAY` itself (a run first seen done by its marker, ADR 14). The next marker is renamed once
            `dst DAY` succeeded and 5 ms more. {warmup} warm-up markers first, not counted; then {measured}. Percentiles are
            nearest-rank over one run's markers. Target (issue 10): a run change within 100 ms of its marker.
            """);
        report.Parameters["warmup"] = warmup;
        report.Parameters["markers"] = measured;
        report.Parameters["cascade"] = variant.Describe();
        for (var run = 1; run <= o.Runs; run++)
        {
            await RunOnceAsync(report, run, variant, warmup, measured);
        }

        return report;
    }

    private static async Task RunOnceAsync(ScenarioReport report, int run, CascadeVariant variant, int warmup, int measured)
    {
        using var dir = Workdir.Create(Name);
        dir.WritePipeline([new JobSpec("src", []), new JobSpec("dst", ["src"])]);
        Directory.CreateDirectory(dir.MarkerFolder);
        var total = warmup + measured;
        var firstDst = NewSlots(total);
        var srcSeen = NewSlots(total);
        var dstDone = NewSlots(total);

        using var process = Shell.Create(variant.Program, [.. variant.Prefix, "run", "--urls", "http://127.0.0.1:0", "-q"], dir.Root);
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Append(e.Data).Append('\n');
            }

            const string Prefix = "HTTP API on ";
            if (e.Data.StartsWith(Prefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data[Prefix.Length..].Split(',', ' ')[0]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Append(e.Data).Append('\n');
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var stop = new CancellationTokenSource();
        try
        {
            string address;
            try
            {
                address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60), TimeProvider.System);
            }
            catch (TimeoutException)
            {
                lock (output)
                {
                    throw new InvalidOperationException($"cascade run printed no 'HTTP API on' within 60 s:\n{output}");
                }
            }

            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
            response.EnsureSuccessStatusCode();
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
            while (await reader.ReadLineAsync(stop.Token) is { Length: > 0 })
            {
                // the preamble up to its blank line: subscribed from here on
            }

            var reading = Task.Run(() => ReadAsync(reader, firstDst, srcSeen, dstDone, stop.Token));
            var toDst = new List<double>();
            var toSrc = new List<double>();
            var lost = 0;
            for (var i = 0; i < total; i++)
            {
                var path = Producer.Prepare(dir.MarkerPath("src", Workdir.Day(i)));
                var at = Producer.Publish(path);
                try
                {
                    var dst = await firstDst[i].Task.WaitAsync(Bound, TimeProvider.System);
                    var src = await srcSeen[i].Task.WaitAsync(Bound, TimeProvider.System);
                    await dstDone[i].Task.WaitAsync(Bound, TimeProvider.System);
                    if (i >= warmup)
                    {
                        toDst.Add(Stats.Ms(at, dst));
                        toSrc.Add(Stats.Ms(at, src));
                    }
                }
                catch (TimeoutException)
                {
                    lost++;
                    if (reading.IsCompleted)
                    {
                        await reading; // the stream broke: say why
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
            }

            await stop.CancelAsync();
            await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System));

            var label = variant.Label;
            report.Record($"{label}: marker→SSE event of the downstream run p50", "ms", Stats.Percentile(toDst, 50), Target.AtMost(100));
            report.Record($"{label}: marker→SSE event of the downstream run p90", "ms", Stats.Percentile(toDst, 90));
            report.Record($"{label}: marker→SSE event of the downstream run p99", "ms", Stats.Percentile(toDst, 99), Target.AtMost(100));
            report.Record($"{label}: marker→SSE event of the downstream run max", "ms", Stats.Percentile(toDst, 100));
            report.Record($"{label}: marker→SSE event of the marker's own run p50", "ms", Stats.Percentile(toSrc, 50));
            report.Record($"{label}: marker→SSE event of the marker's own run p99", "ms", Stats.Percentile(toSrc, 99));
            report.RunDetails.Add(new JsonObject { ["run"] = run, ["measured"] = toDst.Count, ["lost_over_10s"] = lost, ["cascade"] = variant.Label });
            if (lost > 0)
            {
                report.Note($"run {run}: {lost} marker(s) without their events within {Bound.TotalSeconds:0} s (left out of the percentiles)");
            }
        }
        finally
        {
            await stop.CancelAsync();
            if (!process.HasExited)
            {
                await Shell.TerminateAsync(process);
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
            }
        }
    }

    private static TaskCompletionSource<long>[] NewSlots(int count) =>
        Enumerable.Range(0, count).Select(_ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

    /// <summary>Reads <c>event: run</c> blocks; stamps the first of <c>dst DAY</c>, the one of <c>src DAY</c> and <c>dst DAY succeeded</c>.</summary>
    private static async Task ReadAsync(StreamReader reader, TaskCompletionSource<long>[] firstDst, TaskCompletionSource<long>[] srcSeen, TaskCompletionSource<long>[] dstDone, CancellationToken ct)
    {
        string? name = null;
        string? data = null;
        try
        {
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length > 0)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        name = line[7..];
                    }
                    else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        data = line[6..];
                    }

                    continue;
                }

                var at = Stopwatch.GetTimestamp();
                if (name == "run" && data is not null)
                {
                    using var doc = JsonDocument.Parse(data);
                    var root = doc.RootElement;
                    var job = root.GetProperty("job").GetString();
                    var day = DateOnly.ParseExact(root.GetProperty("partition").GetString()!, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
                    var i = Workdir.DayIndex(day);
                    if (i >= 0 && i < firstDst.Length)
                    {
                        if (job == "dst")
                        {
                            firstDst[i].TrySetResult(at);
                            if (root.GetProperty("state").GetString() == "succeeded")
                            {
                                dstDone[i].TrySetResult(at);
                            }
                        }
                        else if (job == "src")
                        {
                            srcSeen[i].TrySetResult(at);
                        }
                    }
                }

                name = null;
                data = null;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the scenario ended
        }
    }
}
