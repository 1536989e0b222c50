using System.Diagnostics;
using System.Net.Sockets;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Folder;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// Issue 8, item 8: files in the marker folder that are not plain markers. Only regular files are
/// markers; a link is not followed, a FIFO or device is never read, at most 64 KiB + 1 byte is read.
/// Each read is bounded (a read that blocks or never ends fails the test instead of hanging it).
/// </summary>
public sealed class HostileMarkerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("cascade-hostile-").FullName;

    private string Root => Path.Combine(_dir, "markers");

    private FolderMarkerStore Store() => new(Root, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);

    private static RunKey Key(string job) => new(job, Partition.Parse("20190312"));

    private string MarkerPath(string job) => Path.Combine(Root, $"{job}__20190312.done");

    private async Task<StoredMarker?> ReadAsync(string job) =>
        await Task.Run(async () => await Store().ReadStoredAsync(Key(job), CancellationToken.None)).WaitAsync(Bound);

    public HostileMarkerTests() => Directory.CreateDirectory(Root);

    [Fact]
    public async Task Regression_8_08_a_marker_that_links_to_a_json_file_outside_the_folder_is_not_followed_and_injects_no_params()
    {
        var outside = Path.Combine(_dir, "outside.json");
        await File.WriteAllTextAsync(outside, """{"params": {"x": "injected"}}""");
        File.CreateSymbolicLink(MarkerPath("a"), outside);

        var stored = await ReadAsync("a");

        Assert.NotNull(stored);
        Assert.Contains("symbolic link", stored.NotAMarker, StringComparison.Ordinal);
        Assert.Empty(stored.Body.Params);
        Assert.Null(await Store().ReadAsync(Key("a"), CancellationToken.None));
    }

    [Fact]
    public async Task Regression_8_08_a_link_to_a_3_GiB_file_is_refused_and_a_3_GiB_marker_is_a_warning_without_reading_it()
    {
        var huge = Path.Combine(_dir, "huge.bin");
        await using (var f = File.Create(huge))
        {
            f.SetLength(3L * 1024 * 1024 * 1024); // sparse: no disk used
        }

        File.CreateSymbolicLink(MarkerPath("linked"), huge);
        File.Move(huge, MarkerPath("big"));

        Assert.Contains("symbolic link", (await ReadAsync("linked"))!.NotAMarker, StringComparison.Ordinal);
        var big = await ReadAsync("big");
        Assert.Null(big!.NotAMarker);
        Assert.Contains("3221225472 bytes, over the 65536 byte limit", big.Body.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_08_a_marker_growing_past_its_size_is_read_up_to_the_limit_only()
    {
        // A file that reports 0 bytes and yields bytes for ever: a link to /dev/zero (refused), and
        // the read itself, which stops at the limit even if the size lied.
        File.CreateSymbolicLink(MarkerPath("zero"), "/dev/zero");
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var stored = await ReadAsync("zero");

        Assert.Contains("symbolic link", stored!.NotAMarker, StringComparison.Ordinal);
        // The count is process-wide and other tests run in parallel, so the bound is loose: the old
        // reader allocated gigabytes here (it read /dev/zero until it ran out of memory).
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 256 * 1024 * 1024, "reading a hostile marker allocated over 256 MiB");
    }

    [Fact]
    public async Task Regression_8_08_every_kind_of_non_regular_entry_named_like_a_marker_is_refused_with_its_reason()
    {
        Directory.CreateDirectory(MarkerPath("folder"));
        Run("mkfifo", MarkerPath("fifo"));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(MarkerPath("socket")));
        File.CreateSymbolicLink(MarkerPath("dangling"), Path.Combine(_dir, "nothing-here"));
        File.CreateSymbolicLink(MarkerPath("loop"), MarkerPath("loop"));
        File.CreateSymbolicLink(MarkerPath("null"), "/dev/null");
        var expected = new Dictionary<string, string>
        {
            ["folder"] = "is a folder",
            ["fifo"] = "is a FIFO",
            ["socket"] = "is a socket",
            ["dangling"] = "is a symbolic link",
            ["loop"] = "is a symbolic link",
            ["null"] = "is a symbolic link",
        };
        if (Environment.UserName == "root")
        {
            Run("mknod", MarkerPath("device"), "c", "1", "5"); // /dev/zero's numbers, in the folder itself
            expected["device"] = "is a device";
        }

        foreach (var (job, reason) in expected)
        {
            var stored = await ReadAsync(job);
            Assert.True(stored?.NotAMarker?.Contains(reason, StringComparison.Ordinal) == true, $"{job}: expected '{reason}', got '{stored?.NotAMarker ?? "a marker"}'");
        }

        // Every one is listed by a scan (so the scheduler can warn about it), none as a 0-byte marker.
        var scanned = new List<MarkerEntry>();
        await foreach (var e in Store().ScanAsync(CancellationToken.None))
        {
            scanned.Add(e);
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), scanned.Select(e => e.RelativePath.Split("__")[0]).Order(StringComparer.Ordinal));
        Assert.All(scanned, e => Assert.Null(e.Size));
    }

    [Fact]
    public async Task Regression_8_18_a_symlink_loop_in_the_marker_folder_is_not_walked()
    {
        for (var i = 0; i < 50; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(Root, $"a__201903{i % 28 + 1:00}{i / 28:00}.done"), "");
        }

        File.CreateSymbolicLink(Path.Combine(Root, "loop"), Root);
        Directory.CreateDirectory(Path.Combine(Root, "sub"));
        File.CreateSymbolicLink(Path.Combine(Root, "sub", "up"), Path.Combine(Root, "sub"));
        var warnings = new Cascade.Engine.Tests.Alerts.CapturingLogger();
        var store = new FolderMarkerStore(Root, MarkerLayout.Default, TimeProvider.System, warnings);

        for (var scan = 0; scan < 3; scan++)
        {
            var n = 0;
            await foreach (var e in store.ScanAsync(CancellationToken.None))
            {
                Assert.DoesNotContain("loop/", e.RelativePath, StringComparison.Ordinal);
                n++;
            }

            Assert.Equal(50, n);
        }

        // One warning per link, not one per scan.
        Assert.Equal(2, warnings.Lines.Count);
        Assert.All(warnings.Lines, m => Assert.Contains("symbolic link to a folder", m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Regression_8_08_an_empty_marker_is_written_over_a_fifo_or_link_without_opening_it()
    {
        Run("mkfifo", MarkerPath("fifo"));
        File.CreateSymbolicLink(MarkerPath("link"), "/dev/zero");

        foreach (var job in new[] { "fifo", "link" })
        {
            await Task.Run(async () => await Store().WriteAsync(Key(job), MarkerBody.Empty, CancellationToken.None)).WaitAsync(Bound);
            var stored = await ReadAsync(job);
            Assert.Null(stored!.NotAMarker);
            Assert.Same(MarkerBody.Empty, stored.Body);
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
