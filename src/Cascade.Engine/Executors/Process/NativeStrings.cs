using System.Runtime.InteropServices;
using System.Text;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in one native block (an <c>argv</c>
/// or <c>envp</c> for <c>posix_spawn</c>), encoded as .NET encodes them for its own process
/// start (UTF-8; a NUL inside a value ends it there, as it does in C).
/// </summary>
internal sealed unsafe class NativeStrings : IDisposable
{
    private byte* _block;

    public NativeStrings(IReadOnlyList<string> items)
    {
        var pointers = (nuint)(items.Count + 1) * (nuint)sizeof(byte*);
        nuint bytes = 0;
        foreach (var item in items)
        {
            bytes += (nuint)Encoding.UTF8.GetByteCount(item) + 1;
        }

        _block = (byte*)NativeMemory.Alloc(pointers + bytes);
        var table = (byte**)_block;
        var next = _block + pointers;
        var end = next + bytes;
        for (var i = 0; i < items.Count; i++)
        {
            table[i] = next;
            var written = Encoding.UTF8.GetBytes(items[i], new Span<byte>(next, (int)(end - next)));
            next[written] = 0;
            next += written + 1;
        }

        table[items.Count] = null;
    }

    public byte** Pointers => (byte**)_block;

    public void Dispose()
    {
        NativeMemory.Free(_block);
        _block = null;
    }
}
