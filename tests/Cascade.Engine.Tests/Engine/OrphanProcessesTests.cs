using System.Diagnostics;
using System.Text;
using Cascade.Engine.Executors.Process;
using Cascade.Engine.Tests.Support;

namespace Cascade.Engine.Tests.Engine;

/// <summary>
/// ADR 7: what a dead scheduler left running is found by the state's tag in the environment of
/// every process of the attempt's tree, and killed; processes of another state are left alone.
/// </summary>
public sealed class OrphanProcessesTests
{
    [Fact]
    public async Task Every_process_of_the_states_tree_is_killed_and_another_states_process_is_left_alone()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "orphan processes are found through /proc, which this machine lacks");
            return;
        }

        var dir = Path.Combine(Path.GetTempPath(), "cascade-orphans-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var mine = OrphanProcesses.TagFor(Path.Combine(dir, "state.db"));
        var theirs = OrphanProcesses.TagFor(Path.Combine(dir, "other.db"));
        using var parent = Start(mine, "sleep 30 & echo $! > child.pid; wait", dir);
        using var stranger = Start(theirs, "sleep 30", dir);
        try
        {
            await TempPipeline.WaitUntilAsync(() => Task.FromResult(File.Exists(Path.Combine(dir, "child.pid")) && File.ReadAllText(Path.Combine(dir, "child.pid")).Trim().Length > 0), TimeSpan.FromSeconds(10), "the job's child to start");
            var child = int.Parse(File.ReadAllText(Path.Combine(dir, "child.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

            var ended = await OrphanProcesses.EndAllAsync(mine, TimeProvider.System, CancellationToken.None);

            Assert.Equal(2, ended.Count(e => e.StartsWith("killed process", StringComparison.Ordinal)));
            Assert.Contains(ended, e => e.Contains($"process {child} ", StringComparison.Ordinal));
            Assert.False(IsAlive(child), "the job's child (same tag, inherited) is still running");
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(IsAlive(stranger.Id), "a process of another state was killed");
            Assert.Empty(OrphanProcesses.Find(mine));
        }
        finally
        {
            stranger.Kill(entireProcessTree: true);
            parent.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_entry_matches_whole_never_as_a_prefix_of_a_longer_value()
    {
        var block = Encoding.UTF8.GetBytes("A=1\0CASCADE_STATE_TAG=abcd1\0B=2\0");
        Assert.False(OrphanProcesses.HasEntry(block, "CASCADE_STATE_TAG=abcd"u8));
        Assert.True(OrphanProcesses.HasEntry(block, "CASCADE_STATE_TAG=abcd1"u8));
        Assert.True(OrphanProcesses.HasEntry("CASCADE_STATE_TAG=abcd"u8, "CASCADE_STATE_TAG=abcd"u8));
        Assert.False(OrphanProcesses.HasEntry([], "CASCADE_STATE_TAG=abcd"u8));
    }

    private static Process Start(string tag, string script, string dir)
    {
        var info = new ProcessStartInfo("sh") { WorkingDirectory = dir, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment[OrphanProcesses.Variable] = tag;
        return Process.Start(info)!;
    }

    /// <summary>A zombie (dead, not yet reaped) is not alive.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
