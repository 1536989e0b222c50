using System.Diagnostics;
using System.Net.Sockets;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Engine.Markers.Folder;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cascade.Engine.Tests.Markers;

/// <summary>
/// Issue 8 (done-when 1, item 8): a marker folder filled with random hostile entries — every file
/// type, huge and growing files, links anywhere, the body corpus of Cascade.Core.Tests — is scanned
/// and every entry read without an exception, each read bounded in time, each entry a marker or a reason.
/// </summary>
public sealed class HostileFolderPropertyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static readonly string[] Bodies = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus", "marker-bodies"));

    private enum Kind
    {
        CorpusBody,
        RandomBytes,
        Empty,
        Sparse,
        LinkToDevZero,
        LinkOutside,
        LinkDangling,
        LinkToSelf,
        LinkToFolder,
        Fifo,
        Socket,
        Folder,
        Device,
    }

    private static readonly Gen<(Kind Kind, int Pick, long Size, byte[] Bytes)> Entry = Gen.Select(
        Gen.Enum<Kind>(), Gen.Int[0, 1000], Gen.Long[0, 4L * 1024 * 1024 * 1024], Gen.Byte.Array[0, 200]);

    [Fact]
    public void Any_mix_of_hostile_entries_is_scanned_and_read_without_an_exception()
    {
        Entry.Array[1, 8].Sample(entries => CheckFolder(entries).GetAwaiter().GetResult(), iter: 60, threads: 1);
    }

    private static async Task CheckFolder((Kind Kind, int Pick, long Size, byte[] Bytes)[] entries)
    {
        var dir = Directory.CreateTempSubdirectory("cascade-hostile-prop-").FullName;
        var root = Path.Combine(dir, "markers");
        Directory.CreateDirectory(root);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < entries.Length; i++)
            {
                Create(dir, Path.Combine(root, $"j{i}__20190312.done"), entries[i], sockets);
            }

            var store = new FolderMarkerStore(root, MarkerLayout.Default, TimeProvider.System, NullLogger.Instance);
            var listed = await Task.Run(async () =>
            {
                var names = new List<string>();
                await foreach (var e in store.ScanAsync(CancellationToken.None))
                {
                    names.Add(e.RelativePath);
                }

                return names;
            }).WaitAsync(Bound);

            for (var i = 0; i < entries.Length; i++)
            {
                var through = $"j{i}__20190312.done/";
                Assert.True(entries[i].Kind != Kind.LinkToFolder || !listed.Any(n => n.StartsWith(through, StringComparison.Ordinal)), "a link to a folder was followed");
            }
            for (var i = 0; i < entries.Length; i++)
            {
                var key = new RunKey($"j{i}", Partition.Parse("20190312"));
                var stored = await Task.Run(async () => await store.ReadStoredAsync(key, CancellationToken.None)).WaitAsync(Bound);
                var expectMarker = entries[i].Kind is Kind.CorpusBody or Kind.RandomBytes or Kind.Empty or Kind.Sparse;
                Assert.True(stored is not null, $"{entries[i].Kind}: read as no entry at all");
                Assert.True(expectMarker == (stored.NotAMarker is null), $"{entries[i].Kind}: {stored.NotAMarker ?? "read as a marker"}");
                if (entries[i].Kind == Kind.Sparse && entries[i].Size > MarkerBody.MaxBytes)
                {
                    Assert.Contains("over the 65536 byte limit", stored.Body.Warning, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Create(string dir, string path, (Kind Kind, int Pick, long Size, byte[] Bytes) entry, List<Socket> sockets)
    {
        switch (entry.Kind)
        {
            case Kind.CorpusBody:
                File.Copy(Bodies[entry.Pick % Bodies.Length], path);
                break;
            case Kind.RandomBytes:
                File.WriteAllBytes(path, entry.Bytes);
                break;
            case Kind.Empty:
                File.WriteAllBytes(path, []);
                break;
            case Kind.Sparse:
                using (var f = File.Create(path))
                {
                    f.SetLength(entry.Size);
                }

                break;
            case Kind.LinkToDevZero:
                File.CreateSymbolicLink(path, "/dev/zero");
                break;
            case Kind.LinkOutside:
                File.WriteAllText(Path.Combine(dir, $"outside{entry.Pick}.json"), """{"params": {"x": "injected"}}""");
                File.CreateSymbolicLink(path, Path.Combine(dir, $"outside{entry.Pick}.json"));
                break;
            case Kind.LinkDangling:
                File.CreateSymbolicLink(path, Path.Combine(dir, "nothing"));
                break;
            case Kind.LinkToSelf:
                File.CreateSymbolicLink(path, path);
                break;
            case Kind.LinkToFolder:
                Directory.CreateSymbolicLink(path, Path.GetDirectoryName(path)!);
                break;
            case Kind.Fifo:
                Run("mkfifo", path);
                break;
            case Kind.Socket:
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Bind(new UnixDomainSocketEndPoint(path));
                sockets.Add(socket);
                break;
            case Kind.Folder:
                Directory.CreateDirectory(path);
                File.WriteAllText(Path.Combine(path, "inner__20190312.done"), "");
                break;
            case Kind.Device when Environment.UserName == "root":
                Run("mknod", path, "c", "1", "5");
                break;
            case Kind.Device:
                Run("mkfifo", path); // not root: no device node; another entry that must never be opened
                break;
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
