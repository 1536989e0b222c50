using System.ComponentModel;

namespace Cascade.Bench.Support;

/// <summary>
/// A way of running the <c>cascade</c> CLI as a process: the JIT build beside the bench
/// (<c>dotnet cascade.dll</c>), or what <c>--cascade PATH</c> names (a dll, run with dotnet; a
/// binary: "native" when no <c>cascade.dll</c> is beside it, as with Native AOT).
/// </summary>
internal sealed record CascadeVariant(string Label, string Program, IReadOnlyList<string> Prefix)
{
    public bool IsNative => Label == "native";

    public string CommandLine => string.Join(' ', [Path.GetFileName(Program), .. Prefix.Select(Path.GetFileName)]);

    public static IReadOnlyList<CascadeVariant> From(string? path)
    {
        var jit = new CascadeVariant("jit", Shell.DotnetHost, [Shell.CascadeDll]);
        if (path is null)
        {
            return [jit];
        }

        var full = Path.GetFullPath(path);
        if (full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return [new CascadeVariant("jit-given", Shell.DotnetHost, [full]), jit];
        }

        var native = !File.Exists(Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + ".dll"));
        return [new CascadeVariant(native ? "native" : "apphost", full, []), jit];
    }

    public string Describe() => $"{Program} {string.Join(' ', Prefix)}".TrimEnd() + (File.Exists(Prefix.Count > 0 ? Prefix[0] : Program)
        ? $" (built {File.GetLastWriteTimeUtc(Prefix.Count > 0 ? Prefix[0] : Program):yyyy-MM-dd HH:mm} UTC)"
        : string.Empty);

    public async Task<Shell.Result> RunAsync(string workdir, TimeSpan timeout, params string[] args)
    {
        try
        {
            return await Shell.RunAsync(Program, [.. Prefix, .. args], workdir, timeout);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {Program}: {e.Message}", e);
        }
    }
}
