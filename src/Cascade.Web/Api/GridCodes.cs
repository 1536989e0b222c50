using Cascade.Core.Scheduling;

namespace Cascade.Web.Api;

/// <summary>
/// The one-letter codes of run states in the grid and DAG answers (one character per cell or hour,
/// <c>.</c> for no run): 1,000 jobs × 90 days is then 90 kB of JSON, not megabytes of objects.
/// </summary>
internal static class GridCodes
{
    public const char None = '.';

    public static char Of(string state) => state switch
    {
        "waiting" => 'w',
        "queued" => 'q',
        "running" => 'r',
        "succeeded" => 's',
        "failed" => 'f',
        "timed_out" => 't',
        "upstream_failed" => 'u',
        "superseded" => 'x',
        _ => '?',
    };

    /// <summary>Every code with its state, as the answers list them (<c>codes</c>).</summary>
    public static IEnumerable<(char Code, string State)> All() =>
        Enum.GetValues<RunState>().Select(s => (Of(s.Name()), s.Name()));
}
