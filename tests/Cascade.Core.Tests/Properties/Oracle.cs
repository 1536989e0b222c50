using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// What must end up done, computed in one batch from the pipeline alone (no scheduler): the root
/// markers, then every run at or after its start whose inputs are all done or satisfied by start.
/// A run is only reachable through one of its inputs, as the scheduler creates runs when an
/// input is done.
/// </summary>
internal static class Oracle
{
    public static HashSet<RunKey> Done(Pipeline pipeline, IEnumerable<RunKey> rootMarkers)
    {
        var done = new HashSet<RunKey>(rootMarkers);
        var work = new Queue<RunKey>(done);
        while (work.TryDequeue(out var key))
        {
            foreach (var down in pipeline.DownstreamOf(key))
            {
                if (!done.Contains(down)
                    && !pipeline.IsBeforeStart(down)
                    && pipeline.InputsOf(down).All(i => done.Contains(i.Key) || pipeline.IsSatisfiedByStart(down, i)))
                {
                    done.Add(down);
                    work.Enqueue(down);
                }
            }
        }

        return done;
    }
}
