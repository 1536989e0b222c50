using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Spec §4: a run that waits too long for its inputs becomes timed_out, its downstream runs
/// upstream_failed without being activated, one alert is sent, and a late marker does not mend
/// the chain.
/// </summary>
public sealed class TimeoutTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public TimeoutTests()
    {
        _ws.Write("cascade.yaml", """
            alerts:
              - webhook: ${E2E_ALERT_URL}
            jobs:
              logs:
                run: external
              payments:
                run: external
              revenue:
                after: [logs, payments]
                wait_timeout: 1s
                run: { command: [sh, -c, 'touch revenue-ran'] }
              report:
                after: [revenue]
                run: { command: [sh, -c, 'touch report-ran'] }
            """);
    }

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_run_waiting_too_long_times_out_breaks_its_chain_and_sends_one_alert()
    {
        using var receiver = new AlertReceiver();
        await using var scheduler = CascadeCli.Start(_ws.Root, new Dictionary<string, string> { ["E2E_ALERT_URL"] = receiver.Url }, "run", "--no-web");
        await scheduler.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);

        (await CascadeCli.RunAsync(_ws.Root, "done", "logs", "20190312")).AssertExitCode(0);
        await scheduler.WaitForOutputAsync(o => o.Contains("TIMED OUT", StringComparison.Ordinal), "revenue to time out", TimeSpan.FromSeconds(15));
        Assert.True(await TempWorkspace.EventuallyAsync(() => !receiver.Bodies.IsEmpty, TimeSpan.FromSeconds(10)), $"no alert arrived\n{scheduler.StdOut}\n{scheduler.StdErr}");

        // The missing input arrives late: recorded, but the chain stays broken.
        (await CascadeCli.RunAsync(_ws.Root, "done", "payments", "20190312")).AssertExitCode(0);
        await scheduler.WaitForOutputAsync(o => o.Contains("late input", StringComparison.Ordinal), "the late marker to be seen", TimeSpan.FromSeconds(10));
        await scheduler.TerminateAsync();
        (await scheduler.WaitForExitAsync(CascadeCli.Timeout)).AssertExitCode(0);

        Assert.False(_ws.Exists("revenue-ran"), "a run started although an input timed out");
        Assert.False(_ws.Exists("report-ran"), "a run started below a timed-out input");

        using var status = JsonDocument.Parse((await CascadeCli.RunAsync(_ws.Root, "status", "--json")).AssertExitCode(0).StdOut);
        var states = status.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("job").GetString()!, r => r.GetProperty("state").GetString()!);
        Assert.Equal("timed_out", states["revenue"]);
        Assert.Equal("upstream_failed", states["report"]);
        using (var broken = JsonDocument.Parse((await CascadeCli.RunAsync(_ws.Root, "status", "--json", "--state", "upstream_failed")).AssertExitCode(0).StdOut))
        {
            Assert.Equal("report", Assert.Single(broken.RootElement.EnumerateArray()).GetProperty("job").GetString());
        }

        var alert = Assert.Single(receiver.Bodies);
        using var doc = JsonDocument.Parse(alert);
        var root = doc.RootElement;
        Assert.Equal("timed_out", root.GetProperty("event").GetString());
        Assert.Equal("revenue", root.GetProperty("job").GetString());
        Assert.Equal("20190312", root.GetProperty("partition").GetString());
        Assert.Contains(root.GetProperty("missing_inputs").EnumerateArray(), m => m.GetString()!.Contains("payments", StringComparison.Ordinal));
        Assert.Contains(root.GetProperty("broken_downstream").EnumerateArray(), m => m.GetString()!.Contains("report", StringComparison.Ordinal));

        var why = (await CascadeCli.RunAsync(_ws.Root, "why", "revenue", "20190312")).AssertExitCode(0);
        Assert.Contains("timed out", why.StdOut, StringComparison.Ordinal);
        Assert.Contains("payments 20190312", why.StdOut, StringComparison.Ordinal);
    }
}
