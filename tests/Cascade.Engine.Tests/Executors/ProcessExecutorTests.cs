using Cascade.Engine.Executors;
using Cascade.Engine.Executors.Process;

namespace Cascade.Engine.Tests.Executors;

/// <summary>The executor contract for <see cref="ProcessExecutor"/> (System.Diagnostics.Process, output through pipes), the fallback where posix_spawn cannot run.</summary>
public sealed class ProcessExecutorTests : ExecutorContract
{
    protected override IExecutor? Create(string workingDirectory, string? stateIdentity, TimeProvider logClock) =>
        new ProcessExecutor(workingDirectory, stateIdentity) { Time = logClock, LogFlushInterval = TimeSpan.FromMilliseconds(100) };
}
