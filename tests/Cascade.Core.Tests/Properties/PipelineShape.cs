using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Tests.Support;
using CsCheck;

namespace Cascade.Core.Tests.Properties;

/// <summary>One generated job: jobs only depend on earlier jobs (plus, optionally, their own previous partition).</summary>
internal sealed record JobShape(Grain Grain, IReadOnlyList<(int Upstream, int Offset)> After, bool SelfOffset, int? StartShift, int? MaxParallel);

/// <summary>
/// A small random DAG of daily and hourly jobs named <c>j0</c>, <c>j1</c>, …, with fan-in, fan-out and
/// offsets. Roots mostly start on <see cref="FirstDay"/>; a few other jobs start a day later.
/// </summary>
internal sealed record PipelineShape(IReadOnlyList<JobShape> Jobs)
{
    public static readonly DateOnly FirstDay = new(2019, 3, 1);

    /// <summary>Offsets 0 (mostly) and -1, as in real pipelines.</summary>
    public static Gen<PipelineShape> Realistic { get; } = Generate(Gen.Int[0, 3].Select(r => r == 0 ? -1 : 0), maxJobs: 6);

    /// <summary>
    /// Any offset from -2 to +1: for the pure mapping properties, where no run has to finish. Jobs
    /// only depend on earlier jobs, so a positive offset never closes a cycle.
    /// </summary>
    public static Gen<PipelineShape> AnyOffsets { get; } = Generate(Gen.Int[-2, 1], maxJobs: 5);

    public static string Name(int index) => "j" + index.ToString(CultureInfo.InvariantCulture);

    public IEnumerable<string> Names => Jobs.Select((_, i) => Name(i));

    public Pipeline Build()
    {
        var jobs = Jobs.Select((shape, i) =>
        {
            List<Dependency> after = [.. shape.After.Select(a => Support.Build.Dep(Name(a.Upstream), a.Offset))];
            if (shape.SelfOffset)
            {
                after.Add(Support.Build.Dep(Name(i), -1));
            }

            return Support.Build.Job(Name(i)) with
            {
                Grain = shape.Grain,
                After = after,
                Start = shape.StartShift is { } shift ? FirstDay.AddDays(shift) : null,
                MaxParallel = shape.MaxParallel,
            };
        });
        return Support.Build.PipelineOf([.. jobs]);
    }

    public override string ToString() => string.Join("; ", Jobs.Select((j, i) =>
        $"{Name(i)}({j.Grain}{(j.StartShift is { } s ? $", start+{s}" : "")}{(j.MaxParallel is { } m ? $", max {m}" : "")})"
        + $" after [{string.Join(", ", j.After.Select(a => $"{Name(a.Upstream)}{(a.Offset == 0 ? "" : $"[{a.Offset}]")}").Concat(j.SelfOffset ? [$"{Name(i)}[-1]"] : []))}]"));

    private static Gen<PipelineShape> Generate(Gen<int> offset, int maxJobs)
    {
        var rawJob = Gen.Select(Gen.Int[0, 9], Gen.Select(Gen.Int[0, 1000], offset).Array[0, 3], Gen.Int[0, 4], Gen.Int[0, 9], Gen.Int[0, 5]);
        return rawJob.Array[1, maxJobs].Select(raw => new PipelineShape([.. raw.Select((r, i) =>
        {
            var (grain, deps, self, start, parallel) = r;
            IReadOnlyList<(int, int)> after = i == 0 ? [] : [.. deps.Select(d => (d.Item1 % i, d.Item2)).Distinct()];
            var root = after.Count == 0;
            return new JobShape(
                grain < 3 ? Grain.Hourly : Grain.Daily,
                after,
                SelfOffset: !root && self == 0,
                StartShift: root ? (start == 0 ? null : 0) : (start == 0 ? 1 : null),
                MaxParallel: parallel switch { 0 => 1, 1 => 2, _ => null });
        })]));
    }
}
