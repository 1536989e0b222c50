namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Finds a command's program, and words a failure to start it, exactly as .NET's
/// <c>Process.Start</c> does on Unix (so both executors choose the same file and give the same
/// error): a rooted path as it is; a bare name in the directory of this program's executable,
/// then the current directory (any file there), then each directory of <c>PATH</c> (an
/// executable file). A relative path with a '/' never gets here: the executors make it absolute
/// against the pipeline's folder first.
/// </summary>
internal static class ProgramPath
{
    /// <summary>What .NET says of a program that is a directory.</summary>
    public const string DirectoryMessage = "The FileName property should not be a directory unless UseShellExecute is set.";

    private const uint TypeMask = 0xF000;
    private const uint Directory = 0x4000;
    private const uint ExecuteAny = 0x49; // S_IXUSR | S_IXGRP | S_IXOTH
    private const uint ExecuteUser = 0x40;
    private const uint ExecuteGroup = 0x8;
    private const uint ExecuteOther = 0x1;

    /// <summary>The file <paramref name="fileName"/> names, or null when nothing is found.</summary>
    public static string? Resolve(string fileName)
    {
        if (Path.IsPathRooted(fileName))
        {
            return fileName; // whether it exists or not: what was asked for
        }

        if (Environment.ProcessPath is { } self)
        {
            try
            {
                var beside = Path.Combine(Path.GetDirectoryName(self)!, fileName);
                if (File.Exists(beside))
                {
                    return beside;
                }
            }
            catch (ArgumentException)
            {
                // an odd executable path: not a place to look
            }
        }

        var here = Path.Combine(System.IO.Directory.GetCurrentDirectory(), fileName);
        if (File.Exists(here))
        {
            return here;
        }

        if (Environment.GetEnvironmentVariable("PATH") is { } path)
        {
            foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, fileName);
                if (IsExecutable(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>The message of .NET's start failure: "An error occurred trying to start process '…' with working directory '…'. No such file or directory".</summary>
    public static string StartError(string fileName, string workingDirectory, int errno) =>
        $"An error occurred trying to start process '{fileName}' with working directory '{workingDirectory}'. {PosixSpawn.Describe(errno)}";

    /// <summary>.NET's test of a <c>PATH</c> candidate: not a directory, and an execute bit that applies to this user.</summary>
    private static bool IsExecutable(string path)
    {
        if (!PosixSpawn.TryStat(path, out var mode, out var uid, out var gid) || (mode & TypeMask) == Directory)
        {
            return false;
        }

        var execute = mode & ExecuteAny;
        if (execute == ExecuteAny)
        {
            return true;
        }

        if (execute == 0)
        {
            return false;
        }

        var euid = PosixSpawn.EffectiveUserId();
        if (euid == 0)
        {
            return true;
        }

        if (euid == uid)
        {
            return (execute & ExecuteUser) != 0;
        }

        var group = (execute & ExecuteGroup) != 0;
        var other = (execute & ExecuteOther) != 0;
        return group == other ? group : PosixSpawn.IsMemberOfGroup(gid) ? group : other;
    }
}
