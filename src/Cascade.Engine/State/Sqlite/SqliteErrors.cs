using Microsoft.Data.Sqlite;

namespace Cascade.Engine.State.Sqlite;

/// <summary>
/// SQLite's errors as a person would put them, naming the state file: "the disk is full" rather
/// than "disk I/O error", "it is read-only" rather than "attempt to write a readonly database".
/// </summary>
internal static class SqliteErrors
{
    private const long NearlyFull = 1024 * 1024;

    /// <summary>An error for <paramref name="e"/>; <paramref name="doing"/> is e.g. "cannot write".</summary>
    public static StateStoreException Describe(string path, string doing, SqliteException e) =>
        new($"{doing} the state file {path}: {Cause(path, e)}", e);

    /// <summary>Errors that a read-only open may get past.</summary>
    public static bool MayReadOnly(SqliteException e) => e.SqliteErrorCode is 8 or 10 or 14;

    private static string Cause(string path, SqliteException e) => e.SqliteErrorCode switch
    {
        13 => Full(path),
        10 when IsNearlyFull(path) => Full(path),
        10 => $"an I/O error ({e.Message})",
        8 => "it is read-only (the file, its folder or the file system cannot be written)",
        14 => "it cannot be opened (its folder is missing, not accessible, or read-only)",
        26 => "it is not a SQLite database, so not a Cascade state file (move it aside)",
        11 => "it is damaged (the database is corrupt; move it aside, and a new one is rebuilt from the markers)",
        5 or 6 => "it is locked by another process for too long",
        _ => e.Message,
    };

    private static string Full(string path) =>
        FreeBytes(path) is { } free ? $"the disk is full ({free} bytes free)" : "the disk is full";

    private static bool IsNearlyFull(string path) => FreeBytes(path) is < NearlyFull;

    /// <summary>Free bytes on the file system holding <paramref name="path"/>: the longest mount point it lies under.</summary>
    private static long? FreeBytes(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            var drive = DriveInfo.GetDrives()
                .Where(d => full.StartsWith(d.RootDirectory.FullName.TrimEnd('/') + "/", StringComparison.Ordinal))
                .MaxBy(d => d.RootDirectory.FullName.Length);
            return drive?.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
