using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Requests;

/// <summary>How both front doors name what a request is about: a job, a run key, a range of partitions.</summary>
public static class Targets
{
    /// <summary>The job, or a refusal naming the jobs there are.</summary>
    public static JobDefinition Job(Pipeline pipeline, string name, string? field = "job") =>
        pipeline.TryGetJob(name, out var job)
            ? job
            : throw new RequestRefusedException($"no job '{name}' in {Path.GetFileName(pipeline.Definition.SourcePath)} (jobs: {string.Join(", ", pipeline.Jobs.Select(j => j.Name))})", Refusal.NotFound, field);

    public static Partition ParsePartition(string text, string? field = "partition") =>
        Partition.TryParse(text, out var p, out var error) ? p : throw new RequestRefusedException(error, Refusal.Invalid, field);

    /// <summary>A run key whose partition fits the job's grain.</summary>
    public static RunKey Key(Pipeline pipeline, string job, string partition, string? field = "partition")
    {
        var def = Job(pipeline, job);
        var p = ParsePartition(partition, field);
        if (p.Grain != def.Grain)
        {
            var example = def.Grain == Grain.Hourly ? "2019031205" : "20190312";
            throw new RequestRefusedException($"job '{job}' is {def.Grain.ToString().ToLowerInvariant()}: give a partition like {example}, not '{partition}'", Refusal.Invalid, field);
        }

        return new RunKey(def.Name, p);
    }

    /// <summary>A partition or an inclusive range <c>FROM..TO</c> of the job's grain (replay, cancel, done).</summary>
    public static (Partition From, Partition To) Range(Pipeline pipeline, string job, string text, string? field = "partition")
    {
        var parts = text.Split("..", 2);
        var from = Key(pipeline, job, parts[0], field).Partition;
        var to = parts.Length == 2 ? Key(pipeline, job, parts[1], field).Partition : from;
        if (to < from)
        {
            throw new RequestRefusedException($"the range {text} ends before it starts", Refusal.Invalid, field);
        }

        return (from, to);
    }
}
