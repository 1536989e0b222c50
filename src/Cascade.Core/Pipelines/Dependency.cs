namespace Cascade.Core.Pipelines;

/// <summary>
/// One entry of a job's <c>after</c> list. <see cref="Offset"/> counts partitions of the coarser
/// of the two grains: <c>{job: revenue, offset: -1}</c> is yesterday's revenue, and a daily job
/// after an hourly job with offset -1 needs all 24 hours of yesterday.
/// </summary>
public sealed record Dependency(string Job, int Offset, SourceLocation Location)
{
    public override string ToString() => Offset == 0 ? Job : $"{Job}[{Offset:+0;-0}]";
}
