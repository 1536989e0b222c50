namespace Cascade.Core.Pipelines;

/// <summary>A validated pipeline, or the errors that stop it.</summary>
public sealed record PipelineResult(Pipeline? Pipeline, IReadOnlyList<ValidationError> Errors)
{
    public bool IsValid => Pipeline is not null;
}
