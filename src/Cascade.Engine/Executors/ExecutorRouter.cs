using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors;

/// <summary>Sends each attempt to the executor of its job's kind of <c>run</c>: a command to the process executor, <c>http</c> to the HTTP executor.</summary>
public sealed class ExecutorRouter(Pipeline pipeline, IExecutor commands, IExecutor http) : IExecutor
{
    public Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill) =>
        pipeline[activation.Key.Job].Run is RunSpec.Http
            ? http.ExecuteAsync(activation, context, kill)
            : commands.ExecuteAsync(activation, context, kill);

    public async ValueTask<IReadOnlyList<string>> EndOrphansAsync(CancellationToken cancellationToken) =>
        [.. await commands.EndOrphansAsync(cancellationToken), .. await http.EndOrphansAsync(cancellationToken)];
}
