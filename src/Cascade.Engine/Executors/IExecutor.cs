using Cascade.Core.Scheduling;

namespace Cascade.Engine.Executors;

/// <summary>
/// Carries out one attempt of a run. Job failures are outcomes, not exceptions; cancelling
/// <c>kill</c> stops the attempt (its outcome is then <see cref="AttemptOutcome.Killed"/>).
/// </summary>
public interface IExecutor
{
    Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill);

    /// <summary>
    /// Called once when a scheduler starts, under the state's lock and before any run is started
    /// again: ends every attempt that a scheduler of the same state left running when it died, so
    /// that no attempt runs twice at once (ADR 7). Returns one line per attempt ended, for the log.
    /// </summary>
    ValueTask<IReadOnlyList<string>> EndOrphansAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<string>>([]);
}
