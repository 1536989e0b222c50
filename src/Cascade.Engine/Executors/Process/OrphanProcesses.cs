using System.ComponentModel;
using System.Globalization;
using System.Text;
using SystemProcess = System.Diagnostics.Process;

namespace Cascade.Engine.Executors.Process;

/// <summary>
/// Finds and ends the processes of attempts that a dead scheduler left running (ADR 7). Every
/// command Cascade starts carries <see cref="Variable"/> = a tag of its state in its environment,
/// set before the program runs and inherited by everything it starts, so there is no window between
/// a process starting and it being findable, and pid reuse cannot make it kill a stranger (the tag
/// is read from the process itself, and its start time is checked again just before the kill).
/// Linux only (<c>/proc/PID/environ</c>); elsewhere nothing is found and a crash may leave an
/// attempt running beside its re-run.
/// </summary>
internal static class OrphanProcesses
{
    public const string Variable = "CASCADE_STATE_TAG";

    /// <summary>How long at most the start-up waits for orphans to be gone.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A short stable tag for a state (its full path): the same for every scheduler of that state.</summary>
    public static string TagFor(string stateIdentity) =>
        Runtime.StateHash.Hex(stateIdentity)[..16];

    /// <summary>Kills every process carrying <paramref name="tag"/> (whole trees: descendants carry it too) and waits until none is left.</summary>
    public static async Task<IReadOnlyList<string>> EndAllAsync(string tag, TimeProvider time, CancellationToken cancellationToken)
    {
        var ended = new Dictionary<int, string>();
        var started = time.GetTimestamp();
        while (true)
        {
            var found = Find(tag);
            if (found.Count == 0)
            {
                return [.. ended.Values];
            }

            if (time.GetElapsedTime(started) > Bound)
            {
                var pids = string.Join(", ", found.Select(f => f.Pid));
                return [.. ended.Values, $"could not end process(es) {pids} left running by a scheduler of this state within {Bound.TotalSeconds:0} s; their runs may run twice at once"];
            }

            foreach (var orphan in found)
            {
                if (StartTime(orphan.Pid) == orphan.StartTime && Kill(orphan.Pid))
                {
                    ended.TryAdd(orphan.Pid, $"killed process {orphan.Pid} ({orphan.What}): left running by a scheduler of this state that died");
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
    }

    /// <summary>Live processes (not zombies: theirs is an empty environment) whose environment carries the tag.</summary>
    internal static List<(int Pid, string StartTime, string What)> Find(string tag)
    {
        var found = new List<(int, string, string)>();
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc"))
        {
            return found;
        }

        var needle = Encoding.UTF8.GetBytes($"{Variable}={tag}");
        var self = Environment.ProcessId;
        var buffer = new byte[16 * 1024];
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self)
            {
                continue;
            }

            // Gone, or not ours (another user's processes cannot be our orphans): nothing read.
            if (!Files.UnixFile.TryReadAll(Path.Combine(dir, "environ"), ref buffer, out var length))
            {
                continue;
            }

            var environ = buffer.AsSpan(0, length);
            if (environ.IndexOf(needle) >= 0 && HasEntry(environ, needle) && StartTime(pid) is { } start)
            {
                found.Add((pid, start, Describe(environ.ToArray())));
            }
        }

        return found;
    }

    /// <summary>Whether the NUL-separated environment block holds exactly the entry <paramref name="entry"/>.</summary>
    internal static bool HasEntry(ReadOnlySpan<byte> environ, ReadOnlySpan<byte> entry)
    {
        while (!environ.IsEmpty)
        {
            var end = environ.IndexOf((byte)0);
            var item = end < 0 ? environ : environ[..end];
            if (item.SequenceEqual(entry))
            {
                return true;
            }

            environ = end < 0 ? [] : environ[(end + 1)..];
        }

        return false;
    }

    private static string Describe(byte[] environ)
    {
        string? Value(string name)
        {
            var prefix = name + "=";
            foreach (var item in Encoding.UTF8.GetString(environ).Split('\0'))
            {
                if (item.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return item[prefix.Length..];
                }
            }

            return null;
        }

        return $"run {Value("CASCADE_RUN_ID") ?? "?"}, attempt {Value("CASCADE_ATTEMPT") ?? "?"}";
    }

    /// <summary>Field 22 of <c>/proc/PID/stat</c> (clock ticks since boot): with the pid, it names one process for ever.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool Kill(int pid)
    {
        try
        {
            using var process = SystemProcess.GetProcessById(pid);
            process.Kill();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Win32Exception or NotSupportedException)
        {
            return false; // already gone
        }
    }
}
