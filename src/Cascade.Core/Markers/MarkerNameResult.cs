using Cascade.Core.Model;

namespace Cascade.Core.Markers;

/// <summary>The outcome of parsing a marker name: a run key, or the reason it is not one.</summary>
public readonly record struct MarkerNameResult(RunKey? Key, string? Error)
{
    public static MarkerNameResult Ok(RunKey key) => new(key, null);

    public static MarkerNameResult Fail(string error) => new(null, error);
}
