using Cascade.Core.Model;

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
    IReadOnlyDictionary<string, string> Params);
