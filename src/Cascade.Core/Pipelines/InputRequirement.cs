using Cascade.Core.Model;

namespace Cascade.Core.Pipelines;

/// <summary>One upstream run a run needs, and the <c>after</c> entry (by index) that asks for it.</summary>
public readonly record struct InputRequirement(RunKey Key, Dependency Dependency, int AfterIndex);
