namespace Cascade.Engine.Files;

/// <summary>
/// Which file a path names: device and inode. A file deleted and created again at the same path,
/// or replaced by a rename, has another identity.
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode);
