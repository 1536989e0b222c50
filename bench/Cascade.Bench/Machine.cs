using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Cascade.Bench.Support;

namespace Cascade.Bench;

/// <summary>The facts a figure needs next to it: cores, CPU model, OS, .NET, make, load.</summary>
internal sealed record Machine
{
    public required int Cores { get; init; }
    public required string CpuModel { get; init; }
    public required string Os { get; init; }
    public required string Kernel { get; init; }
    public required string Dotnet { get; init; }
    public required string Configuration { get; init; }
    public required string GcMode { get; init; }
    public required string? Make { get; init; }
    public required double MemoryTotalMb { get; init; }
    public required string LoadAverageAtStart { get; init; }
    public required string TempFileSystem { get; init; }
    public string? LoadAverageAtEnd { get; set; }

    public static async Task<Machine> ReadAsync()
    {
        var make = await Shell.FirstLineAsync("make", "--version");
        return new Machine
        {
            Cores = Environment.ProcessorCount,
            CpuModel = ProcField("/proc/cpuinfo", "model name") ?? "unknown (no 'model name' in /proc/cpuinfo)",
            Os = OsRelease() ?? RuntimeInformation.OSDescription,
            Kernel = "Linux " + (ReadLine("/proc/sys/kernel/osrelease") ?? RuntimeInformation.OSDescription),
            Dotnet = $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})",
            Configuration = IsOptimized() ? "Release" : "Debug (figures are not representative: use -c Release)",
            GcMode = GCSettings.IsServerGC ? "server" : "workstation" + (GCSettings.LatencyMode == GCLatencyMode.Interactive ? " concurrent" : string.Empty),
            Make = make,
            MemoryTotalMb = (ProcKb("/proc/meminfo", "MemTotal") ?? 0) / 1024.0,
            LoadAverageAtStart = LoadAverage(),
            TempFileSystem = await TempFsAsync(),
        };
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public JsonObject ToJson() => new()
    {
        ["cores"] = Cores,
        ["cpu_model"] = CpuModel,
        ["os"] = Os,
        ["kernel"] = Kernel,
        ["dotnet"] = Dotnet,
        ["configuration"] = Configuration,
        ["gc"] = GcMode,
        ["make"] = Make ?? "not installed",
        ["memory_total_mb"] = Math.Round(MemoryTotalMb),
        ["load_average_at_start"] = LoadAverageAtStart,
        ["load_average_at_end"] = LoadAverageAtEnd,
        ["temp_dir"] = Path.GetTempPath(),
        ["temp_file_system"] = TempFileSystem,
    };

    public IEnumerable<string> Lines()
    {
        yield return $"machine: {Cores} cores, {CpuModel}, {Os} ({Kernel}), {MemoryTotalMb / 1024:0.#} GiB RAM";
        yield return $".NET:    {Dotnet}, {Configuration}, GC {GcMode}";
        yield return $"make:    {Make ?? "not installed (the make -j2 comparison is skipped)"}";
        yield return $"temp:    {Path.GetTempPath()} on {TempFileSystem}; load average {LoadAverageAtStart}{(LoadAverageAtEnd is null ? string.Empty : $" at start, {LoadAverageAtEnd} at end")}";
    }

    /// <summary>Reads <c>/proc/self/status</c>-style <c>Key: N kB</c> lines.</summary>
    public static long? ProcKb(string file, string key)
    {
        var value = ProcField(file, key);
        if (value is null)
        {
            return null;
        }

        var number = value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return long.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb : null;
    }

    public static string? ProcField(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static string? OsRelease()
    {
        var value = ProcField("/etc/os-release", "PRETTY_NAME");
        if (value is null)
        {
            try
            {
                value = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..];
            }
            catch (IOException)
            {
                return null;
            }
        }

        return value?.Trim('"');
    }

    private static string? ReadLine(string file)
    {
        try
        {
            return File.ReadLines(file).FirstOrDefault()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsOptimized() =>
        typeof(Machine).Assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };

    private static async Task<string> TempFsAsync()
    {
        var line = await Shell.LastLineAsync("df", "-T", Path.GetTempPath());
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 2 } ? $"{parts[1]} ({parts[0]})" : "unknown";
    }
}
