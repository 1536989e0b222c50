namespace Cascade.Core.Pipelines;

/// <summary>Where something was written in the pipeline file (1-based line and column).</summary>
public readonly record struct SourceLocation(int Line, int Column)
{
    public static readonly SourceLocation None = new(0, 0);

    public override string ToString() => Line > 0 ? $"{Line}:{Column}" : "?";
}
