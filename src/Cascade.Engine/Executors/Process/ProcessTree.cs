using System.Globalization;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Kills a process and all its descendants, as <c>Process.Kill(entireProcessTree: true)</c> does:
/// found by their parent pid in <c>/proc</c>. Every process of the tree is stopped (SIGSTOP)
/// before its children are looked for, so none can start more or collect a child (whose pid could
/// then be reused) while the tree is being found; then all are killed (SIGKILL). A process that
/// left the tree before the kill (re-parented to init after its parent ended) is not in it, as
/// before; ADR 7's tag still finds it after a crash.
/// </summary>
internal static class ProcessTree
{
    private const int MaxPasses = 16;

    /// <summary>Kills <paramref name="root"/> (which must not be collected yet) and its descendants.</summary>
    public static void Kill(int root)
    {
        if (PosixSpawn.Signal(root, PosixSpawn.SIGSTOP) == PosixSpawn.ESRCH)
        {
            return;
        }

        var tree = new List<int> { root };
        var members = new HashSet<int> { root };
        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var grew = false;
            foreach (var (pid, parent) in Parents())
            {
                if (members.Contains(parent) && !members.Contains(pid) && PosixSpawn.Signal(pid, PosixSpawn.SIGSTOP) == 0)
                {
                    members.Add(pid);
                    tree.Add(pid);
                    grew = true;
                }
            }

            if (!grew)
            {
                break;
            }
        }

        foreach (var pid in tree)
        {
            _ = PosixSpawn.Signal(pid, PosixSpawn.SIGKILL);
        }
    }

    /// <summary>Every process's pid and parent pid (field 4 of <c>/proc/PID/stat</c>).</summary>
    private static IEnumerable<(int Pid, int Parent)> Parents()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone meanwhile
            }

            // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so read after the last ')'.
            var rest = stat.AsSpan(stat.LastIndexOf(')') + 2);
            var afterState = rest[(rest.IndexOf(' ') + 1)..];
            var end = afterState.IndexOf(' ');
            if (end > 0 && int.TryParse(afterState[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var parent))
            {
                yield return (pid, parent);
            }
        }
    }
}
