using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Cascade.Core.Scheduling;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary><c>/metrics</c> in the Prometheus text format: names, units, labels, and the activation histogram's count.</summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Metrics_are_Prometheus_text_with_total_counters_a_seconds_histogram_and_job_labels_only()
    {
        await using var host = await ApiHost.StartAsync(scheduler: true);
        foreach (var day in new[] { "20190311", "20190312" })
        {
            await host.WriteMarkerAsync("extract", day);
        }

        foreach (var day in new[] { "20190311", "20190312" })
        {
            await host.WaitForStateAsync("report", day, RunState.Succeeded);
        }

        using (var trigger = await host.PostAsync("/api/runs/hourly/2019031205/trigger", null))
        {
            Assert.Equal(202, (int)trigger.StatusCode);
        }

        await host.WaitForStateAsync("hourly", "2019031205", RunState.Succeeded);
        using var response = await host.Http.GetAsync("/metrics");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        var samples = Parse(text);

        Assert.DoesNotContain(samples, s => s.Labels.ContainsKey("partition"));
        double Sum(string name, string? job = null) => samples.Where(s => s.Name == name && (job is null || s.Labels.GetValueOrDefault("job") == job)).Sum(s => s.Value);

        // 2 load, 2 report, 1 hourly started: the histogram counts exactly the started runs.
        Assert.Equal(5, Sum("cascade_activations_total"));
        Assert.Equal(5, Sum("cascade_activation_latency_seconds_count"));
        Assert.Equal(2, Sum("cascade_activation_latency_seconds_count", "report"));
        Assert.Contains(samples, s => s.Name == "cascade_activation_latency_seconds_bucket" && s.Labels["le"] == "+Inf");
        Assert.True(Sum("cascade_activation_latency_seconds_sum") >= 0);
        Assert.Equal(4, Sum("cascade_downstream_start_latency_seconds_count")); // load and report: after an upstream; hourly was triggered
        Assert.Equal(5, samples.Where(s => s.Name == "cascade_attempts_total" && s.Labels["outcome"] == "succeeded").Sum(s => s.Value));
        Assert.True(Sum("cascade_markers_observed_total") >= 2);
        Assert.True(Sum("cascade_rescan_duration_seconds_count") >= 1);
        Assert.Equal(2, Sum("cascade_runs", "report"));
        Assert.Contains(samples, s => s.Name == "cascade_runs" && s.Labels["state"] == "succeeded");
        Assert.Contains("# TYPE cascade_activations_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE cascade_activation_latency_seconds histogram", text, StringComparison.Ordinal);

        // The histogram's count equals the started runs as the state records them.
        var started = 0;
        foreach (var (job, day) in new[] { ("load", "20190311"), ("load", "20190312"), ("report", "20190311"), ("report", "20190312"), ("hourly", "2019031205") })
        {
            started += (await host.RunAsync(job, day))!.ActivatedAt is null ? 0 : 1;
        }

        Assert.Equal(started, Sum("cascade_activation_latency_seconds_count"));
        await PromtoolAsync(text);
    }

    [Fact]
    public async Task Without_a_scheduler_the_run_counts_are_served_from_the_state()
    {
        await using var host = await ApiHost.StartAsync();
        await host.WriteMarkerAsync("extract", "20190312");
        await host.RunUntilIdleAsync();
        using var response = await host.Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE cascade_runs gauge", text, StringComparison.Ordinal);
        Assert.Contains("cascade_runs{otel_scope_name=", text, StringComparison.Ordinal);
        Assert.Contains("job=\"report\",state=\"succeeded\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cascade_activations_total", text, StringComparison.Ordinal); // no scheduler here
        await PromtoolAsync(text);
    }

    /// <summary>Checks the text with Debian's <c>promtool</c> when it is installed (a real parser); required under CI=true.</summary>
    private static async Task PromtoolAsync(string text)
    {
        const string promtool = "/usr/bin/promtool";
        if (!File.Exists(promtool))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "promtool is missing (apt-get install prometheus); CI must check /metrics with it");
            return;
        }

        using var process = Process.Start(new ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, $"promtool check metrics: {await stdout}{stderr}");
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    /// <summary>The text format's sample lines: <c>name{label="value",…} value</c>; comments checked for form.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                Assert.Matches(CommentLine(), line);
                continue;
            }

            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a sample line: {line}");
            var labels = LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(m.Groups["name"].Value, labels, value));
        }

        return samples;
    }

    [GeneratedRegex(@"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ ]+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex LabelPair();
}
