using Npgsql;

namespace Cascade.Engine.State.Postgres;

/// <summary>
/// Brings a schema to <see cref="PostgresSchema.Latest"/> (ADR 21): in one transaction that first
/// takes a transaction-level advisory lock keyed by the schema, so two nodes opening the store at
/// once apply each migration once between them; the second finds nothing to do.
/// </summary>
internal static class PostgresMigrator
{
    /// <summary>The version found and the migrations applied (none when the schema was current).</summary>
    public static async Task<MigrationResult> MigrateAsync(NpgsqlDataSource source, string shown, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);

        // The common case without a lock: the schema is current.
        var current = await VersionAsync(connection, null, shown, cancellationToken);
        if (current == PostgresSchema.Latest)
        {
            return new MigrationResult(current, current, []);
        }

        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('cascade:migrate:' || current_schema()));", connection, tx))
        {
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }

        var found = await VersionAsync(connection, tx, shown, cancellationToken);
        var applied = new List<PostgresSchema.Migration>();
        if (found == 0)
        {
            await using var create = new NpgsqlCommand("CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp());", connection, tx);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var migration in PostgresSchema.Migrations.Where(m => m.Version > found))
        {
            // A command (not a batch command) of several statements: Npgsql splits it into one batch.
            await using (var apply = new NpgsqlCommand(migration.Sql, connection, tx))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version, description) VALUES (@version, @description);", connection, tx);
            record.Parameters.Add(new NpgsqlParameter<int>("version", migration.Version));
            record.Parameters.Add(new NpgsqlParameter<string>("description", migration.Description));
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add(migration);
        }

        await tx.CommitAsync(cancellationToken);
        return new MigrationResult(found, PostgresSchema.Latest, applied.Select(m => (m.Version, m.Description)).ToList());
    }

    /// <summary>The schema's version: 0 for an empty schema; refuses a newer one and a schema with foreign tables of our names.</summary>
    private static async Task<int> VersionAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string shown, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            """
            SELECT current_schema(),
                   (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_version'),
                   (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1));
            """,
            connection,
            tx);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = PostgresSchema.Tables });
        string? schema;
        long hasVersion, ours;
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            schema = reader.IsDBNull(0) ? null : reader.GetString(0);
            hasVersion = reader.GetInt64(1);
            ours = reader.GetInt64(2);
        }

        if (schema is null)
        {
            throw new StateStoreException($"cannot open the state {shown}: no schema of its Search Path exists (create it, e.g. CREATE SCHEMA cascade, or fix Search Path=)");
        }

        if (hasVersion == 0)
        {
            return ours == 0
                ? 0
                : throw new StateStoreException($"cannot open the state {shown}: schema {schema} has tables named like Cascade's (runs, events, …) but no schema_version table, so it is not a Cascade state; use another schema (Search Path=) or database");
        }

        await using var version = new NpgsqlCommand("SELECT COALESCE(max(version), 0) FROM schema_version;", connection, tx);
        var found = (int)(await version.ExecuteScalarAsync(cancellationToken))!;
        return found > PostgresSchema.Latest
            ? throw new StateStoreException($"the state {shown} has schema version {found}; this cascade understands version {PostgresSchema.Latest}. Use the cascade version that wrote it.")
            : found;
    }
}
