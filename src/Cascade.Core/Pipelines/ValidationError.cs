namespace Cascade.Core.Pipelines;

/// <summary>A problem in a pipeline file, printed as <c>file:line:column: message</c>.</summary>
public sealed record ValidationError(string File, SourceLocation Location, string Message)
{
    public override string ToString() =>
        Location.Line > 0 ? $"{File}:{Location.Line}:{Location.Column}: {Message}" : $"{File}: {Message}";
}
