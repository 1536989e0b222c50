using Npgsql;

namespace Cascade.Engine.State.Postgres;

public sealed partial class PostgresRunStore
{
    /// <summary>
    /// One scheduler per PostgreSQL state until the leader lease exists (ADR 21 §9): a session
    /// advisory lock keyed by the schema, held on a connection of its own for as long as the
    /// returned handle lives. The server releases it when that connection dies (the process was
    /// killed, the network went), so a dead scheduler never blocks the next one. A second
    /// <c>cascade run</c> on any machine is refused.
    /// </summary>
    public async Task<IAsyncDisposable> TakeSchedulerLockAsync(CancellationToken cancellationToken) =>
        await TryTakeSchedulerLockAsync(cancellationToken)
        ?? throw new StateStoreException($"another `cascade run` is using the state {Shown} (one scheduler per PostgreSQL state until several nodes are supported); stop it first, or use `cascade serve` for the API only");

    /// <summary>As <see cref="TakeSchedulerLockAsync"/>, but null when another scheduler holds it (a backfill then follows that one).</summary>
    public async Task<IAsyncDisposable?> TryTakeSchedulerLockAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('cascade:scheduler:' || current_schema()));", connection);
            if (await cmd.ExecuteScalarAsync(cancellationToken) is true)
            {
                return new SchedulerLockHandle(connection);
            }
        }
        catch (Exception e) when (PostgresErrors.IsDatabase(e))
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            throw PostgresErrors.Describe(Shown, "cannot lock", e);
        }

        await connection.DisposeAsync();
        return null;
    }

    private sealed class SchedulerLockHandle(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('cascade:scheduler:' || current_schema()));", connection);
                await cmd.ExecuteNonQueryAsync();
            }
            catch (Exception e) when (PostgresErrors.IsDatabase(e))
            {
                // the connection is gone, and the lock with it
            }

            await connection.DisposeAsync();
        }
    }
}
