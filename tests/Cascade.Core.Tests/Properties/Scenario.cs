using CsCheck;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// One generated history: a pipeline, how many days of root markers arrive (optionally one day
/// before the roots' start), the global limit (0 = none), how many scheduler restarts may be
/// interleaved, and a seed for the order of events.
/// </summary>
internal sealed record Scenario(PipelineShape Shape, int Days, bool DayBeforeStart, int MaxParallel, int Restarts, int Seed)
{
    public static Gen<Scenario> WithRestarts { get; } = Generate(Gen.Int[0, 3]);

    public static Gen<Scenario> WithoutRestarts { get; } = Generate(Gen.Const(0));

    public override string ToString() =>
        $"days={Days} dayBeforeStart={DayBeforeStart} maxParallel={MaxParallel} restarts={Restarts} seed={Seed} pipeline: {Shape}";

    private static Gen<Scenario> Generate(Gen<int> restarts) =>
        Gen.Select(PipelineShape.Realistic, Gen.Int[1, 3], Gen.Bool, Gen.Int[0, 3], restarts, Gen.Int)
            .Select(t => new Scenario(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6));
}
