namespace Cascade.Engine.State;

/// <summary>What bringing a state's schema up to date did: the version found, the version now, and each migration applied (none: it was current).</summary>
public sealed record MigrationResult(int From, int To, IReadOnlyList<(int Version, string Description)> Applied);
