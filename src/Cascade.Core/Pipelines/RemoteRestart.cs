namespace Cascade.Core.Pipelines;

/// <summary>
/// <c>run.http.on_restart</c>: what a starting scheduler does with a remote attempt it finds
/// <c>running</c> — its activation was recorded (committed) before it was sent, and the scheduler
/// that sent it stopped before the run's marker came (a crash, a stop, a deploy).
/// </summary>
public enum RemoteRestart
{
    /// <summary>
    /// The default: do not send again. The attempt stays running and waits for its marker, at most
    /// until its <c>run_timeout</c>, counted from the attempt's recorded start. Safe for a target
    /// without an idempotency key (AWS Glue, AWS Data Pipeline), where a second request starts (or
    /// cancels) a job.
    /// </summary>
    Wait,

    /// <summary>
    /// Send the same attempt again: same run id, generation and attempt, so every placeholder renders
    /// the same and a target keyed on <c>{run_id}</c> (a Step Functions execution name, a Databricks
    /// <c>idempotency_token</c>, an Airflow <c>dag_run_id</c>) ignores the repeat.
    /// </summary>
    Resend,
}
