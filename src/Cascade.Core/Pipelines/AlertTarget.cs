namespace Cascade.Core.Pipelines;

/// <summary>One entry of <c>alerts</c>: <c>slack</c> or <c>webhook</c> and its URL (may hold <c>${ENV}</c>).</summary>
public sealed record AlertTarget(string Kind, string Url, SourceLocation Location);
