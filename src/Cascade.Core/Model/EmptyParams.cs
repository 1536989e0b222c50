namespace Cascade.Core.Model;

/// <summary>
/// The one shared, read-only empty set of params: most runs and markers have none, and a year of a
/// big pipeline is ~10^6 of them.
/// </summary>
public static class EmptyParams
{
    public static IReadOnlyDictionary<string, string> Instance { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal).AsReadOnly();
}
