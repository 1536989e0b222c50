using System.Diagnostics;
using Cascade.Bench.Support;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;

namespace Cascade.Bench.Scenarios;

/// <summary>The pieces of a job's cost on cascade's side, each timed alone over sequential jobs (after one warm-up).</summary>
internal static class DagCost
{
    /// <summary><c>Process.Start</c> of <c>true</c> without redirection, then wait for exit: the spawn floor of .NET here; ms per job.</summary>
    public static async Task<double> BareSpawnMsAsync(int count, string workdir)
    {
        var times = new List<double>();
        for (var i = 0; i <= count; i++)
        {
            var info = new ProcessStartInfo("true") { UseShellExecute = false, WorkingDirectory = workdir };
            var start = Stopwatch.GetTimestamp();
            using (var process = Process.Start(info)!)
            {
                await process.WaitForExitAsync();
            }

            times.Add(Stats.MsSince(start));
        }

        return times.Skip(1).Average();
    }

    /// <summary>
    /// Executors (each made by its factory in the folder) running <c>[true]</c> to its end, as the
    /// engine calls them (no engine), interleaved job by job (the order alternating) so that a
    /// shared machine's load falls on all of them alike; ms per job for each, after one warm-up job each.
    /// </summary>
    public static async Task<double[]> ExecutorsMsAsync(int count, Workdir dir, params Func<string, IExecutor>[] create)
    {
        var executors = create.Select(c => c(dir.Root)).ToArray();
        var times = executors.Select(_ => new List<double>()).ToArray();
        for (var i = 0; i <= count; i++)
        {
            for (var k = 0; k < executors.Length; k++)
            {
                var e = (i + k) % executors.Length;
                var executor = executors[e];
                var key = new RunKey("j", Partition.Day(Workdir.Epoch.AddDays(i)));
                var activation = new Activation(key, 1, 1, $"run-{i}", ["true"], EmptyParams.Instance, EmptyParams.Instance);
                var context = new AttemptContext(dir.MarkerPath("j", Workdir.Day(i)), Path.Combine(dir.LogDirectory, "j", $"{e}-{i}", "g1-a1.log"));
                var start = Stopwatch.GetTimestamp();
                var outcome = await executor.ExecuteAsync(activation, context, CancellationToken.None);
                if (i > 0)
                {
                    times[e].Add(Stats.MsSince(start));
                }

                if (outcome is not AttemptOutcome.Exited(0))
                {
                    throw new InvalidOperationException($"{executor.GetType().Name} [true] ended {outcome}");
                }
            }
        }

        return [.. times.Select(t => t.Average())];
    }
}
