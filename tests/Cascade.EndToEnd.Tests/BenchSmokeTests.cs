using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Keeps the benchmark (bench/Cascade.Bench) from rotting: its <c>--quick</c> run must finish and
/// report every scenario with numbers. It asserts the shape of the report only — never a time or a
/// target (those are for people reading docs/performance.md, not for CI on a shared machine).
/// </summary>
public sealed class BenchSmokeTests : IDisposable
{
    private static readonly string[] _scenarios = ["reaction", "throughput", "dag", "scale", "idle", "request", "sse"];

    /// <summary>A hang guard only: the quick run normally takes seconds.</summary>
    private static readonly TimeSpan _hangGuard = TimeSpan.FromMinutes(10);

    private readonly string _out = Path.Combine(Path.GetTempPath(), $"cascade-bench-smoke-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_out);

    [Fact]
    public async Task Quick_bench_reports_every_scenario_with_numbers_and_the_machine()
    {
        var (exitCode, output) = await RunBenchAsync("--quick", "--out", _out);

        Assert.True(exitCode == 0, $"the quick bench exited {exitCode}\n{output}");
        Assert.True(File.Exists(_out), $"no JSON at {_out}\n{output}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(_out));
        var root = json.RootElement;

        var machine = root.GetProperty("machine");
        Assert.True(machine.GetProperty("cores").GetInt32() >= 1);
        foreach (var fact in new[] { "cpu_model", "os", "dotnet", "make" })
        {
            Assert.False(string.IsNullOrWhiteSpace(machine.GetProperty(fact).GetString()), $"machine fact '{fact}' is empty");
        }

        var scenarios = root.GetProperty("scenarios").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        foreach (var name in _scenarios)
        {
            Assert.True(scenarios.TryGetValue(name, out var scenario), $"scenario '{name}' is missing from the JSON\n{output}");
            Assert.False(string.IsNullOrWhiteSpace(scenario.GetProperty("method").GetString()), $"scenario '{name}' has no method");
            var metrics = scenario.GetProperty("metrics").EnumerateArray().ToList();
            Assert.True(metrics.Count > 0, $"scenario '{name}' has no metrics: {scenario}");
            foreach (var metric in metrics)
            {
                var label = $"{name}: {metric.GetProperty("name").GetString()}";
                Assert.Equal(JsonValueKind.Number, metric.GetProperty("median").ValueKind);
                Assert.True(double.IsFinite(metric.GetProperty("median").GetDouble()), $"{label} is not a finite number");
                Assert.True(metric.GetProperty("runs").GetArrayLength() >= 1, $"{label} has no run");
            }
        }

        // The make -j2 comparison is there, or the report says make is missing.
        var dag = scenarios["dag"];
        var hasMake = dag.GetProperty("metrics").EnumerateArray().Any(m => m.GetProperty("name").GetString()!.Contains("make -j2", StringComparison.Ordinal));
        var saysNoMake = dag.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.Contains("make is not installed", StringComparison.Ordinal));
        Assert.True(hasMake || saysNoMake, $"the dag scenario neither compares with make -j2 nor says make is missing: {dag}");

        // Same work on both sides, whole processes next to the engine, per-job cost, the 1-job start-up and where a job's time goes.
        var dagMetrics = dag.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToList();
        foreach (var expected in new[] { "one: cascade jit", "one: engine in-process", "daily5x3: per job, cascade jit", "chain10: per job, engine in-process", "cost per job: ProcessExecutor" })
        {
            Assert.True(dagMetrics.Any(m => m.StartsWith(expected, StringComparison.Ordinal)), $"the dag scenario has no '{expected}' figure: {string.Join(", ", dagMetrics)}");
        }

        Assert.Equal("@touch $@", dag.GetProperty("parameters").GetProperty("make_recipe").GetString());

        // The table is printed too, with the machine's facts above it.
        Assert.Contains("machine:", output, StringComparison.Ordinal);
        Assert.Contains("met?", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunBenchAsync(params string[] args)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cascade.Bench.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var guard = new CancellationTokenSource(_hangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"the quick bench did not finish within {_hangGuard.TotalMinutes:0} minutes (a hang, not a slow run)\n{Snapshot(output)}");
        }

        return (process.ExitCode, Snapshot(output));
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.Append(line).Append('\n');
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
