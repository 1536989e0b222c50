using System.Diagnostics;
using System.Runtime.InteropServices;
using Cascade.Bench.Support;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Executors;

namespace Cascade.Bench.Scenarios;

/// <summary>The pieces of a job's cost on cascade's side, timed over sequential jobs (after one warm-up each).</summary>
internal static partial class DagCost
{
    /// <summary>
    /// Ways to run <c>[true]</c> to its end (each made by its factory in the folder; executors as
    /// the engine calls them, without the engine), interleaved job by job with the order rotating,
    /// so that a shared machine's load falls on all of them alike; ms per job for each. Each job
    /// gets a new log folder and file, as the engine gives them.
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

    /// <summary><c>Process.Start</c> of the program without redirection, then wait for exit: the spawn floor of .NET here (no log).</summary>
    public sealed class BareProcess(string workdir) : IExecutor
    {
        public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
        {
            using var process = Process.Start(new ProcessStartInfo(activation.Argv[0]) { UseShellExecute = false, WorkingDirectory = workdir })!;
            await process.WaitForExitAsync(kill);
            return new AttemptOutcome.Exited(process.ExitCode);
        }
    }

    /// <summary>
    /// <c>posix_spawn</c> of <c>/usr/bin/true</c> with no file actions and a one-variable
    /// environment, then a blocking <c>waitpid</c> on the same thread: what the OS alone costs
    /// here (no log, no lookup, no thread hop). Linux only.
    /// </summary>
    public sealed partial class OsFloor : IExecutor
    {
        private readonly IntPtr[] _argv = [Marshal.StringToCoTaskMemUTF8("/usr/bin/true"), IntPtr.Zero];
        private readonly IntPtr[] _envp = [Marshal.StringToCoTaskMemUTF8("PATH=/usr/bin:/bin"), IntPtr.Zero];

        public Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
        {
            var error = PosixSpawn(out var pid, _argv[0], IntPtr.Zero, IntPtr.Zero, _argv, _envp);
            if (error != 0)
            {
                return Task.FromResult<AttemptOutcome>(new AttemptOutcome.NotStarted($"posix_spawn: {Marshal.GetPInvokeErrorMessage(error)}"));
            }

            while (WaitPid(pid, out var status, 0) < 0)
            {
                if (Marshal.GetLastPInvokeError() != 4)
                {
                    throw new InvalidOperationException($"waitpid: {Marshal.GetLastPInvokeErrorMessage()}");
                }
            }

            return Task.FromResult<AttemptOutcome>(new AttemptOutcome.Exited(0));
        }

        [LibraryImport("libc", EntryPoint = "posix_spawn")]
        private static partial int PosixSpawn(out int pid, IntPtr path, IntPtr fileActions, IntPtr attributes, IntPtr[] argv, IntPtr[] envp);

        [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
        private static partial int WaitPid(int pid, out int status, int options);
    }
}
