using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary><c>state:</c> is parsed once into <see cref="StateSettings"/> (ADR 21); bad values are located errors that never show a password.</summary>
public sealed class StateSettingsTests
{
    private static PipelineResult Load(string state) =>
        PipelineLoader.Load($"state: {state}\njobs:\n  a:\n    run: external\n", "cascade.yaml");

    [Fact]
    public void Without_state_the_default_sqlite_file_is_used_and_a_sqlite_path_is_kept_as_written()
    {
        var none = PipelineLoader.Load("jobs:\n  a:\n    run: external\n", "cascade.yaml");
        Assert.Equal(new StateSettings.Sqlite(".cascade/state.db"), none.Pipeline!.Definition.State);
        Assert.Equal(new StateSettings.Sqlite("var/cascade.db"), Load("sqlite:var/cascade.db").Pipeline!.Definition.State);
    }

    [Fact]
    public void A_postgres_state_keeps_its_connection_string_with_env_references_unexpanded()
    {
        var result = Load("\"postgres:Host=db.internal;Database=cascade;Username=cascade;Password=${PGPASSWORD}\"");

        var pg = Assert.IsType<StateSettings.Postgres>(result.Pipeline!.Definition.State);
        Assert.Equal("Host=db.internal;Database=cascade;Username=cascade;Password=${PGPASSWORD}", pg.ConnectionString);
    }

    [Theory]
    [InlineData("\"sqlite:\"", "state 'sqlite:' names no file")]
    [InlineData("mysql:Host=x", "state 'mysql:' is not a supported store: use sqlite:PATH")]
    [InlineData(".cascade/state.db", "is not a supported store")]
    [InlineData("\"postgres:\"", "the connection string is empty")]
    [InlineData("\"postgres:Host=x;Pasword=hunter2\"", "not a valid connection string")]
    [InlineData("\"postgres:Host=x;Password=${BROKEN\"", "malformed ${NAME} variable")]
    [InlineData("\"postgres:Host=x;Port=abc;Password=hunter2\"", "not a valid connection string")]
    public void A_bad_state_is_a_located_error_that_never_shows_the_password(string state, string expected)
    {
        var result = Load(state);

        Assert.Null(result.Pipeline);
        var error = Assert.Single(result.Errors);
        Assert.Equal(1, error.Location.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=h;Password=hunter2;Database=d", "Host=h;Password=***;Database=d")]
    [InlineData("Host=h; pwd = 'hun;ter2' ;Database=d", "Host=h; pwd =***;Database=d")]
    [InlineData("PASSWORD=\"a\"\"b;c\"", "PASSWORD=***")]
    [InlineData("Host=h", "Host=h")]
    public void The_connection_string_is_shown_without_its_password(string connection, string shown)
    {
        var settings = new StateSettings.Postgres(connection);

        Assert.Equal("postgres:" + shown, settings.Shown);
        Assert.DoesNotContain("hunter2", settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ter2", $"{settings}", StringComparison.Ordinal);
    }
}
