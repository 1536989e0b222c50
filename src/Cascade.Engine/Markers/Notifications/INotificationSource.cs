namespace Cascade.Engine.Markers.Notifications;

/// <summary>
/// A notification source that pulls (an SQS queue's consumer), run by the scheduler service beside its
/// loop from the moment the start-up rescan is committed until the service stops. It hands what it
/// receives to an <see cref="INotificationIntake"/>, never to the loop directly.
/// <para><see cref="RunAsync"/> returns promptly once cancelled and handles its own failures (logged,
/// retried): it should not throw. If it does, the service logs one line and relies on the periodic
/// rescan; the scheduler goes on.</para>
/// </summary>
public interface INotificationSource
{
    /// <summary>How people see the source in logs: <c>sqs https://…/queue</c>.</summary>
    string Describe { get; }

    Task RunAsync(CancellationToken cancellationToken);
}
