using System.Diagnostics;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>A fresh temporary folder for one test, deleted afterwards; files are written relative to it.</summary>
public sealed class TempWorkspace : IDisposable
{
    private const UnixFileMode Executable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public TempWorkspace() => Root = Directory.CreateTempSubdirectory("cascade-e2e-").FullName;

    public string Root { get; }

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Writes a text file (creating its folders) and returns its full path.</summary>
    public string Write(string relative, string content)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        return path;
    }

    /// <summary>Writes an executable script (e.g. starting with <c>#!/bin/sh</c>).</summary>
    public string WriteScript(string relative, string content)
    {
        var path = Write(relative, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, Executable);
        }

        return path;
    }

    public bool Exists(string relative) => File.Exists(PathOf(relative));

    public string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every file under the workspace, as relative paths with '/' separators, sorted.</summary>
    public IReadOnlyList<string> Files(string under = "") =>
        Directory.Exists(PathOf(under))
            ? Directory.EnumerateFiles(PathOf(under), "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; returns whether it did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }

        return true;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a process killed by a failing test may still hold a file
        }
        catch (UnauthorizedAccessException)
        {
            // best effort, as above
        }
    }
}
