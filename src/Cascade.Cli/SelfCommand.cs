namespace Cascade.Cli;

/// <summary>
/// How the user can run this very <c>cascade</c> again, for the hints we print: <c>cascade</c>
/// when that name on PATH is this program, else the path of the program, or for the framework
/// build the <c>dotnet run --project …</c> form when started from a source tree (else <c>dotnet
/// cascade.dll</c>).
/// </summary>
internal static class SelfCommand
{
    public static string Text()
    {
        var process = Environment.ProcessPath;
        if (process is null)
        {
            return "cascade";
        }

        if (!Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return OnPath("cascade") is { } found && SameFile(found, process) ? "cascade" : Shell(process);
        }

        // A framework-dependent build run by the dotnet host: `dotnet run` or `dotnet cascade.dll`.
        var dll = Path.Combine(AppContext.BaseDirectory, "cascade.dll");
        return ProjectOf(AppContext.BaseDirectory) is { } project
            ? $"dotnet run --project {Shell(project)} --"
            : $"dotnet {Shell(dll)}";
    }

    /// <summary>src/Cascade.Cli/bin/Release/net10.0/ → src/Cascade.Cli/Cascade.Cli.csproj, if it is there.</summary>
    private static string? ProjectOf(string baseDirectory)
    {
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            var project = Path.Combine(dir.FullName, "Cascade.Cli.csproj");
            if (File.Exists(project))
            {
                return project;
            }

            if (dir.Name == "bin")
            {
                return dir.Parent is { } parent && File.Exists(Path.Combine(parent.FullName, "Cascade.Cli.csproj")) ? Path.Combine(parent.FullName, "Cascade.Cli.csproj") : null;
            }
        }

        return null;
    }

    private static string? OnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? name + ".exe" : name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool SameFile(string a, string b)
    {
        static string Resolve(string p) => new FileInfo(p).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(p);
        return string.Equals(Resolve(a), Resolve(b), StringComparison.Ordinal);
    }

    /// <summary>The path quoted for a POSIX shell when it needs it.</summary>
    public static string Shell(string path) =>
        path.Any(c => char.IsWhiteSpace(c) || "'\"$`\\;&|<>()*?[]#~".Contains(c)) ? "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : path;
}
