using Cascade.Core.Model;

namespace Cascade.Engine.State;

/// <summary>A request left in the state store's inbox by another process.</summary>
public sealed record Request(string Kind, RunKey Key, IReadOnlyDictionary<string, string> Params, DateTimeOffset At)
{
    public const string Trigger = "trigger";

    public long Id { get; init; }
}
