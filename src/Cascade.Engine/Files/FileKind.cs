namespace Cascade.Engine.Files;

/// <summary>The type of a directory entry, as <c>lstat</c> reports it.</summary>
internal enum FileKind
{
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
    Other,
}
