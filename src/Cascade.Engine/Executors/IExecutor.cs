using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors;

/// <summary>
/// Carries out one attempt of a run. Job failures are outcomes, not exceptions; cancelling
/// <c>kill</c> stops the attempt (its outcome is then <see cref="AttemptOutcome.Killed"/>).
/// </summary>
public interface IExecutor
{
    Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill);
}
