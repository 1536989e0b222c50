namespace Cascade.Engine.Files;

/// <summary>The cause of a failed file operation in words ("the disk is full"), not an errno or a stack trace.</summary>
internal static class IoErrors
{
    public static string Describe(Exception e) => e.HResult switch
    {
        28 => "no space left on the device (the disk is full)",
        30 => "the file system is read-only",
        13 => "permission denied",
        _ => e is UnauthorizedAccessException ? "permission denied (or the file system is read-only)" : e.Message,
    };
}
