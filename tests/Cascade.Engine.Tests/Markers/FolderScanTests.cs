using System.Diagnostics;
using Cascade.Engine.Files;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// The folder scan's own directory walk (one <c>statx</c> per marker, relative to its folder): it must
/// list exactly what .NET's enumeration lists, with the sizes, types and write times the file system
/// reports, and follow no link.
/// </summary>
public sealed class FolderScanTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cascade-scan-").FullName;

    [Fact]
    public void The_walk_lists_every_marker_like_entry_with_its_kind_size_and_write_time_and_follows_no_link()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        Directory.CreateDirectory(Path.Combine(_root, ".superseded", "g1"));
        Directory.CreateDirectory(Path.Combine(_root, "a", ".superseded"));
        Directory.CreateDirectory(Path.Combine(_root, "folder.done"));
        File.WriteAllText(Path.Combine(_root, "x__20190312.done"), string.Empty);
        File.WriteAllText(Path.Combine(_root, "y__20190312.done"), "{\"params\":{}}");
        File.WriteAllText(Path.Combine(_root, "a", "z__20190312.done"), "abc");
        File.WriteAllText(Path.Combine(_root, "a", "b", "deep__20190312.done"), string.Empty);
        File.WriteAllText(Path.Combine(_root, "a", "b", "not-a-marker.txt"), "x");
        File.WriteAllText(Path.Combine(_root, ".superseded", "g1", "old__20190312.done"), string.Empty);
        File.WriteAllText(Path.Combine(_root, "a", ".superseded", "old__20190312.done"), string.Empty);
        File.WriteAllText(Path.Combine(_root, "folder.done", "inside__20190312.done"), string.Empty);
        File.CreateSymbolicLink(Path.Combine(_root, "link__20190312.done"), Path.Combine(_root, "x__20190312.done"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "loop"), _root);
        Run("mkfifo", Path.Combine(_root, "fifo__20190312.done"));
        var written = new DateTime(2019, 3, 12, 6, 30, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(_root, "a", "z__20190312.done"), written);

        var skipped = new List<string>();
        var entries = UnixDirectory.Walk(_root, ".done", folder => Path.GetFileName(folder) != ".superseded", skipped.Add)
            .ToDictionary(e => e.RelativePath);

        Assert.Equal(
            ["a/b/deep__20190312.done", "a/z__20190312.done", "fifo__20190312.done", "folder.done", "folder.done/inside__20190312.done", "link__20190312.done", "x__20190312.done", "y__20190312.done"],
            entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((FileKind.Regular, 0L), (entries["x__20190312.done"].Kind, entries["x__20190312.done"].Size));
        Assert.Equal((FileKind.Regular, 13L), (entries["y__20190312.done"].Kind, entries["y__20190312.done"].Size));
        Assert.Equal((FileKind.Regular, 3L), (entries["a/z__20190312.done"].Kind, entries["a/z__20190312.done"].Size));
        Assert.Equal(written, entries["a/z__20190312.done"].Modified.UtcDateTime);
        Assert.Equal(FileKind.SymbolicLink, entries["link__20190312.done"].Kind);
        Assert.Equal(FileKind.Fifo, entries["fifo__20190312.done"].Kind);
        Assert.Equal(FileKind.Directory, entries["folder.done"].Kind);
        Assert.Equal(["loop"], skipped);

        // The same names as .NET's own enumeration of the tree (links not followed, .superseded left out).
        var reference = new System.IO.Enumeration.FileSystemEnumerable<string>(
            _root,
            (ref System.IO.Enumeration.FileSystemEntry e) => Path.GetRelativePath(_root, e.ToFullPath()),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.EndsWith(".done", StringComparison.Ordinal),
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) =>
                (e.Attributes & FileAttributes.ReparsePoint) == 0 && !e.FileName.SequenceEqual(".superseded"),
        };
        Assert.Equal(reference.Order(StringComparer.Ordinal), entries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_folder_of_more_markers_than_one_chunk_is_listed_whole_once_each()
    {
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        for (var i = 0; i < 2_500; i++)
        {
            File.WriteAllText(Path.Combine(_root, $"j{i}__20190312.done"), i % 7 == 0 ? "{}" : string.Empty);
        }

        File.WriteAllText(Path.Combine(_root, "sub", "deep__20190312.done"), string.Empty);
        var listed = UnixDirectory.Walk(_root, ".done", _ => true, _ => { }).Select(e => e.RelativePath).ToList();

        Assert.Equal(2_501, listed.Count);
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(
            Directory.EnumerateFiles(_root, "*.done", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_root, f)).Order(StringComparer.Ordinal),
            listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_missing_root_or_an_unreadable_folder_lists_nothing_and_throws_nothing()
    {
        Assert.Empty(UnixDirectory.Walk(Path.Combine(_root, "missing"), ".done", _ => true, _ => { }));
        File.WriteAllText(Path.Combine(_root, "file"), string.Empty);
        Assert.Empty(UnixDirectory.Walk(Path.Combine(_root, "file"), ".done", _ => true, _ => { }));
    }

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
