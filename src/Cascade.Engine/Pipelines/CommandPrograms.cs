using Cascade.Core.Pipelines;

namespace Cascade.Engine.Pipelines;

/// <summary>
/// Checks, for <c>cascade validate</c>, that the program of every command can be started: a path
/// (one with a '/', resolved against the pipeline's folder as the executor does) must be an
/// executable file — else an error located at the program; a bare name not found on PATH is a
/// warning (it may exist where the scheduler runs). A program with a placeholder is not checked.
/// </summary>
public static class CommandPrograms
{
    public static (IReadOnlyList<ValidationError> Errors, IReadOnlyList<ValidationError> Warnings) Check(Pipeline pipeline, string baseDirectory, string? path)
    {
        var errors = new List<ValidationError>();
        var warnings = new List<ValidationError>();
        var file = pipeline.Definition.SourcePath;
        foreach (var job in pipeline.Jobs)
        {
            if (job.Run is not RunSpec.Command { Argv: [var program, ..] } command || program.Contains('{', StringComparison.Ordinal))
            {
                continue;
            }

            var at = command.Location.Line > 0 ? command.Location : job.Location;
            if (program.Contains('/', StringComparison.Ordinal))
            {
                if (ProblemWith(Path.GetFullPath(Path.Combine(baseDirectory, program))) is { } problem)
                {
                    errors.Add(new ValidationError(file, at, $"job '{job.Name}': program '{program}' {problem}"));
                }
            }
            else if (!OnPath(program, path))
            {
                warnings.Add(new ValidationError(file, at, $"job '{job.Name}': program '{program}' is not found on PATH (it must be there where the scheduler runs)"));
            }
        }

        return (errors, warnings);
    }

    private static string? ProblemWith(string full)
    {
        if (Directory.Exists(full))
        {
            return $"is a directory ({full})";
        }

        if (!File.Exists(full))
        {
            var near = Directory.Exists(Path.GetDirectoryName(full)) ? Suggest(full) : null;
            return $"does not exist ({full}){(near is null ? "" : $"; did you mean '{near}'?")}";
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            return $"is not executable (chmod +x {full}, or run it through its interpreter, e.g. [sh, {Path.GetFileName(full)}])";
        }

        return null;
    }

    private static bool OnPath(string program, string? path) =>
        (path ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)) || (OperatingSystem.IsWindows() && File.Exists(Path.Combine(dir, program + ".exe"))));

    /// <summary>A file in the same folder whose name differs by at most two edits.</summary>
    private static string? Suggest(string full) =>
        DidYouMean.Closest(Path.GetFileName(full), Directory.EnumerateFiles(Path.GetDirectoryName(full)!).Select(f => Path.GetFileName(f)));
}
