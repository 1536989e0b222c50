using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Cascade.Engine.Files;

/// <summary>
/// Walks a directory tree with <c>readdir</c> and one <c>statx</c> per wanted entry, relative to its
/// directory's descriptor (Linux). The start-up scan of a marker folder is one such walk over every
/// marker; .NET's enumeration stats each entry by its full path (the kernel walks every component
/// again) and a 0-byte marker needed a second call to tell a regular file from a FIFO or device.
/// Here the entry's type comes from the directory itself (<c>d_type</c>), and the one <c>statx</c>
/// of a regular file gives its size and last write.
/// </summary>
internal static unsafe partial class UnixDirectory
{
    private const string Libc = "libc";
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeSizeMtime = 0x1 | 0x40 | 0x200; // STATX_TYPE | STATX_MTIME | STATX_SIZE

    // d_type values.
    private const byte DtUnknown = 0;
    private const byte DtFifo = 1;
    private const byte DtChr = 2;
    private const byte DtDir = 4;
    private const byte DtBlk = 6;
    private const byte DtReg = 8;
    private const byte DtLnk = 10;
    private const byte DtSock = 12;

    // struct dirent (glibc and musl, 64-bit): d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name[].
    private const int DTypeOffset = 18;
    private const int DNameOffset = 19;

    /// <summary>
    /// One entry: its path relative to the root (with '/'), its type, and for a regular file its
    /// size and last write (zero and the epoch for the rest).
    /// </summary>
    public readonly record struct Entry(string RelativePath, FileKind Kind, long Size, DateTimeOffset Modified);

    /// <summary>
    /// Every entry under <paramref name="root"/> whose name ends with <paramref name="suffix"/>
    /// (ASCII), depth first. A real sub-folder is entered when <paramref name="enter"/> says so (given
    /// its relative path); a link to a folder is never followed, and is reported to
    /// <paramref name="skippedLink"/> instead. A folder that cannot be opened is left out, as one that
    /// vanishes during the walk: the caller's next scan sees the tree as it then is.
    /// </summary>
    public static IEnumerable<Entry> Walk(string root, string suffix, Func<string, bool> enter, Action<string> skippedLink)
    {
        var suffixBytes = Encoding.ASCII.GetBytes(suffix);
        var pending = new Stack<string>();
        pending.Push(string.Empty);
        var found = new List<Entry>(Chunk);
        var folders = new List<string>();
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            folders.Clear();
            using (var reader = FolderReader.Open(relative.Length == 0 ? root : Path.Combine(root, relative), relative, suffixBytes, skippedLink))
            {
                // In chunks, so a folder of a million markers is never held in memory at once.
                while (reader is not null && reader.Read(found, folders, Chunk))
                {
                    foreach (var entry in found)
                    {
                        yield return entry;
                    }

                    found.Clear();
                }
            }

            for (var i = folders.Count - 1; i >= 0; i--)
            {
                if (enter(folders[i]))
                {
                    pending.Push(folders[i]);
                }
            }
        }
    }

    private const int Chunk = 1024;

    /// <summary>One open folder, read a chunk at a time; closes it when disposed.</summary>
    private sealed class FolderReader : IDisposable
    {
        private readonly nint _dir;
        private readonly int _fd;
        private readonly string _prefix;
        private readonly byte[] _suffix;
        private readonly Action<string> _skippedLink;
        private readonly byte[] _status = new byte[256];

        private FolderReader(nint dir, string relative, byte[] suffix, Action<string> skippedLink)
        {
            _dir = dir;
            _fd = DirFd(dir);
            _prefix = relative.Length == 0 ? string.Empty : relative + "/";
            _suffix = suffix;
            _skippedLink = skippedLink;
        }

        /// <summary>The folder at <paramref name="path"/>, or null when it cannot be opened.</summary>
        public static FolderReader? Open(string path, string relative, byte[] suffix, Action<string> skippedLink)
        {
            var encoded = UnixFile.Encode(path);
            nint dir;
            fixed (byte* p = encoded)
            {
                dir = OpenDir(p);
            }

            return dir == 0 ? null : new FolderReader(dir, relative, suffix, skippedLink);
        }

        /// <summary>Reads up to <paramref name="max"/> wanted entries into <paramref name="found"/> (sub-folders into <paramref name="folders"/>); false at the end.</summary>
        public bool Read(List<Entry> found, List<string> folders, int max)
        {
            fixed (byte* buffer = _status)
            {
                while (found.Count < max)
                {
                    var dirent = (byte*)ReadDir(_dir);
                    if (dirent == null)
                    {
                        return found.Count > 0;
                    }

                    ReadEntry(dirent, buffer, found, folders);
                }
            }

            return true;
        }

        private void ReadEntry(byte* dirent, byte* buffer, List<Entry> found, List<string> folders)
        {
            var type = dirent[DTypeOffset];
            var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(dirent + DNameOffset);
            if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
            {
                return;
            }

            var wanted = name.EndsWith(_suffix);
            if (!wanted && type is not (DtDir or DtLnk or DtUnknown))
            {
                return;
            }

            var kind = KindOf(type);
            long size = 0;
            var modified = DateTimeOffset.UnixEpoch;
            if (kind == FileKind.SymbolicLink)
            {
                // Never followed; a link to a folder is named so the caller can say why.
                if (Statx(_fd, dirent + DNameOffset, 0, StatxTypeSizeMtime, buffer) == 0
                    && UnixFile.KindOf(BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(buffer, 256)[28..])) == FileKind.Directory)
                {
                    _skippedLink(_prefix + Encoding.UTF8.GetString(name));
                }
            }
            else if (kind is FileKind.Regular or FileKind.Other)
            {
                // A regular file's size and last write; DT_UNKNOWN (some file systems) its type too.
                if (Statx(_fd, dirent + DNameOffset, AtSymlinkNoFollow, StatxTypeSizeMtime, buffer) != 0)
                {
                    return; // gone since the listing: the next scan decides
                }

                var status = new ReadOnlySpan<byte>(buffer, 256);
                kind = UnixFile.KindOf(BinaryPrimitives.ReadUInt16LittleEndian(status[28..]));
                size = BinaryPrimitives.ReadInt64LittleEndian(status[40..]);
                modified = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64LittleEndian(status[112..]))
                    .AddTicks(BinaryPrimitives.ReadUInt32LittleEndian(status[120..]) / 100);
            }

            var relativePath = _prefix + Encoding.UTF8.GetString(name);
            if (wanted)
            {
                found.Add(new Entry(relativePath, kind, kind == FileKind.Regular ? size : 0, modified));
            }

            if (kind == FileKind.Directory)
            {
                folders.Add(relativePath);
            }
        }

        public void Dispose() => _ = CloseDir(_dir);
    }

    private static FileKind KindOf(byte type) => type switch
    {
        DtReg => FileKind.Regular,
        DtDir => FileKind.Directory,
        DtLnk => FileKind.SymbolicLink,
        DtFifo => FileKind.Fifo,
        DtSock => FileKind.Socket,
        DtChr => FileKind.CharacterDevice,
        DtBlk => FileKind.BlockDevice,
        _ => FileKind.Other,
    };

    [LibraryImport(Libc, EntryPoint = "opendir")]
    private static partial nint OpenDir(byte* path);

    [LibraryImport(Libc, EntryPoint = "readdir")]
    private static partial nint ReadDir(nint dir);

    [LibraryImport(Libc, EntryPoint = "dirfd")]
    private static partial int DirFd(nint dir);

    [LibraryImport(Libc, EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);

    [LibraryImport(Libc, EntryPoint = "statx")]
    private static partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* buffer);
}
