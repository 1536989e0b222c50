using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Core.Tests.Support;

/// <summary>
/// Terse builders for pipelines made of records. Jobs default to a daily command job whose argv
/// uses a few built-in placeholders; tests change what matters with <c>with { … }</c>.
/// </summary>
internal static class Build
{
    public const string SourcePath = "cascade.yaml";

    public static JobDefinition Job(string name, params string[] after) => new()
    {
        Name = name,
        After = [.. after.Select(a => Dep(a))],
        Run = new RunSpec.Command(["./run.sh", "{job}", "{partition}"]),
    };

    public static JobDefinition Hourly(string name, params string[] after) => Job(name, after) with { Grain = Grain.Hourly };

    public static JobDefinition External(string name, params string[] after) => Job(name, after) with { Run = new RunSpec.External() };

    public static Dependency Dep(string job, int offset = 0) => new(job, offset, SourceLocation.None);

    public static PipelineDefinition Definition(params JobDefinition[] jobs) => new() { SourcePath = SourcePath, Jobs = jobs };

    /// <summary>A validated pipeline; fails the test with the validation errors otherwise.</summary>
    public static Pipeline PipelineOf(params JobDefinition[] jobs)
    {
        var result = Pipeline.Create(Definition(jobs));
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Pipeline!;
    }

    public static Partition P(string text) => Partition.Parse(text);

    public static RunKey Key(string job, string partition) => new(job, Partition.Parse(partition));

    public static DateOnly Date(string iso) => DateOnly.ParseExact(iso, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public static IReadOnlyDictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
