using Cascade.Core.Model;
using Cascade.Engine.Runtime;

namespace Cascade.Engine.Tests.Engine;

/// <summary>The log layout (ADR 18): one folder per partition, and logs of the layout before still found.</summary>
public sealed class LogFilesTests : IDisposable
{
    private readonly string _logs = Directory.CreateTempSubdirectory("cascade-logs-").FullName;
    private static readonly RunKey Key = new("sessions", Partition.Parse("20190312"));

    [Fact]
    public void An_attempt_log_lives_in_its_partitions_folder_named_by_job_generation_and_attempt()
    {
        Assert.Equal(Path.Combine(_logs, "20190312", "sessions.g2-a3.log"), LogFiles.PathOf(_logs, Key, 2, 3));
        Assert.Equal(Path.Combine(_logs, "2019031205", "sessions.g1-a1.log"), LogFiles.PathOf(_logs, new RunKey("sessions", Partition.Parse("2019031205")), 1, 1));
    }

    [Fact]
    public void A_log_written_in_the_layout_before_is_still_found_and_the_new_one_wins_when_both_exist()
    {
        var before = Path.Combine(_logs, "sessions", "20190312", "g1-a1.log");
        Directory.CreateDirectory(Path.GetDirectoryName(before)!);
        File.WriteAllText(before, "old");
        Assert.Equal(before, LogFiles.Find(_logs, Key, 1, 1));

        var now = LogFiles.PathOf(_logs, Key, 1, 1);
        Directory.CreateDirectory(Path.GetDirectoryName(now)!);
        File.WriteAllText(now, "new");
        Assert.Equal(now, LogFiles.Find(_logs, Key, 1, 1));

        // Neither: looked for where it would be written.
        Assert.Equal(LogFiles.PathOf(_logs, Key, 1, 2), LogFiles.Find(_logs, Key, 1, 2));
    }

    public void Dispose() => Directory.Delete(_logs, recursive: true);
}
