using Npgsql;

namespace Cascade.EndToEnd.Tests.Support;

/// <summary>
/// A schema of its own in the PostgreSQL that scripts/test.sh starts on 127.0.0.1 (at
/// <c>CASCADE_TEST_PG</c>). Without the server a test fails under <c>CI=true</c> and elsewhere says it
/// did not run. <see cref="State"/> is the pipeline's <c>state:</c> line, its password taken from
/// the environment (<see cref="Environment"/>): the server trusts any, and none may be printed.
/// </summary>
public sealed class PostgresSchema : IAsyncDisposable
{
    /// <summary>The password the pipeline names as <c>${CASCADE_TEST_PG_PASSWORD}</c>; no output may contain it.</summary>
    public const string Password = "pw-never-shown-7f3a";

    private readonly string _server;

    private PostgresSchema(string server, string name)
    {
        _server = server;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The connection string of the schema, as the test reaches it.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(_server) { SearchPath = Name }.ConnectionString;

    /// <summary>A quoted <c>state:</c> value for the pipeline file.</summary>
    public string State => $"\"postgres:{ConnectionString};Password=${{CASCADE_TEST_PG_PASSWORD}}\"";

    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string> { ["CASCADE_TEST_PG_PASSWORD"] = Password };

    /// <summary>A new schema, or null (having said why) when there is no server outside CI.</summary>
    public static async Task<PostgresSchema?> CreateAsync(string test)
    {
        if (System.Environment.GetEnvironmentVariable("CASCADE_TEST_PG") is not { Length: > 0 } server)
        {
            var why = $"{test}: no PostgreSQL server (CASCADE_TEST_PG is not set; scripts/test.sh starts one on 127.0.0.1 and sets it)";
            Assert.False(System.Environment.GetEnvironmentVariable("CI") == "true", why);
            Console.WriteLine($"not run: {why}");
            return null;
        }

        var schema = new PostgresSchema(server, "e2e_" + Guid.NewGuid().ToString("N")[..16]);
        await schema.ExecAsync($"CREATE SCHEMA {schema.Name};");
        return schema;
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteScalarAsync();
    }

    private async Task ExecAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecAsync($"DROP SCHEMA IF EXISTS {Name} CASCADE;");
    }
}
