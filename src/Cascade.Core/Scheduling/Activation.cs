using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Core.Scheduling;

/// <summary>
/// Everything an executor needs to start one attempt: the rendered argv and the values for the
/// <c>CASCADE_*</c> environment. Values are data, never code: no shell sees them.
/// </summary>
public sealed record Activation(
    RunKey Key,
    int Generation,
    int Attempt,
    string RunId,
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Values,
    IReadOnlyDictionary<string, string> Params)
{
    /// <summary>When the attempt was started (its <c>started</c> change, committed before anything is sent).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>
    /// Null for a new attempt. Set when a starting scheduler takes over a remote attempt that was in
    /// flight when the previous one stopped (its activation already sent): <see cref="RemoteRestart.Wait"/>
    /// waits for the marker without sending anything, <see cref="RemoteRestart.Resend"/> sends the
    /// same attempt again (same run id and placeholders).
    /// </summary>
    public RemoteRestart? AfterRestart { get; init; }
}
