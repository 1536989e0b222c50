namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Chooses how commands start (ADR 13): <see cref="PosixSpawnExecutor"/> where it can run (Linux,
/// glibc, not pid 1), <see cref="ProcessExecutor"/> elsewhere. <c>CASCADE_EXECUTOR</c> can force
/// either: <c>process</c> (the portable one, for example to compare, or if the fast one misbehaves
/// somewhere), <c>posix_spawn</c> (fails where it cannot run), <c>auto</c> or unset (the default).
/// </summary>
public static class CommandExecutors
{
    public const string Variable = "CASCADE_EXECUTOR";

    /// <summary>
    /// To be called first thing in a program that runs commands: a scheduler started with SIGCHLD
    /// ignored (inherited from whatever started it) would never learn that its commands ended, so
    /// SIGCHLD is set back to its default (see ADR 13). Returns whether it had to be.
    /// </summary>
    public static bool RestoreChildSignal() => PosixSpawn.RestoreIgnoredSigChld();

    /// <summary>The executor for commands run in <paramref name="workingDirectory"/>; throws <see cref="InvalidOperationException"/> on a bad <see cref="Variable"/>.</summary>
    public static IExecutor Create(string workingDirectory, string? stateIdentity, Func<string, string?> environment)
    {
        var choice = environment(Variable);
        switch (choice)
        {
            case null or "" or "auto":
                return PosixSpawnExecutor.UnsupportedReason is null
                    ? new PosixSpawnExecutor(workingDirectory, stateIdentity)
                    : new ProcessExecutor(workingDirectory, stateIdentity);
            case "process":
                return new ProcessExecutor(workingDirectory, stateIdentity);
            case "posix_spawn":
                return PosixSpawnExecutor.UnsupportedReason is { } reason
                    ? throw new InvalidOperationException($"{Variable}=posix_spawn cannot be used here: {reason}")
                    : new PosixSpawnExecutor(workingDirectory, stateIdentity);
            default:
                throw new InvalidOperationException($"{Variable} must be auto, process or posix_spawn, not '{choice}'");
        }
    }
}
