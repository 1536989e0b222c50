namespace Cascade.Engine.Files;

/// <summary>What the file system says of one path: its type, size, identity and last write.</summary>
internal readonly record struct FileStatus(FileKind Kind, long Size, FileIdentity Identity, DateTimeOffset Modified);
