using Npgsql;

namespace Cascade.Engine.Tests.Support;

/// <summary>
/// The PostgreSQL the test script starts on 127.0.0.1 (scripts/postgres.sh, see scripts/test.sh), at
/// the connection string <c>CASCADE_TEST_PG</c>. Without it a test that needs it fails under
/// <c>CI=true</c> and, elsewhere, says it did not run and returns. Each test gets a schema of its own
/// (the store's tables are unqualified; <c>Search Path</c> picks the schema).
/// </summary>
internal static class PostgresServer
{
    public const string Variable = "CASCADE_TEST_PG";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } cs ? cs : null;

    /// <summary>The server's connection string, or null (and a line saying the test did not run) when there is none outside CI.</summary>
    public static string? Require(string test)
    {
        if (ConnectionString is { } cs)
        {
            return cs;
        }

        var why = $"{test}: no PostgreSQL server ({Variable} is not set; scripts/test.sh starts one on 127.0.0.1 and sets it)";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", why);
        Console.WriteLine($"not run: {why}");
        return null;
    }

    /// <summary>A new empty schema, and the connection string that works in it.</summary>
    public static async Task<(string Schema, string ConnectionString)> NewSchemaAsync(string server)
    {
        var schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        await ExecAsync(server, $"CREATE SCHEMA {schema};");
        return (schema, new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ConnectionString);
    }

    public static async Task DropSchemaAsync(string server, string schema)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecAsync(server, $"DROP SCHEMA IF EXISTS {schema} CASCADE;");
    }

    public static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteScalarAsync();
    }
}
