using System.Net;
using System.Net.Sockets;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;
using Cascade.Engine.State.Postgres;
using Cascade.Engine.Tests.Support;
using Npgsql;

namespace Cascade.Engine.Tests.State;

/// <summary>
/// The state-store suite on a real PostgreSQL on 127.0.0.1 (started by scripts/test.sh), each test
/// in a schema of its own, and what only a database server does: versioned migrations, several
/// stores at once, connection strings, a server that is not there.
/// </summary>
public sealed class PostgresRunStoreTests : RunStoreContract, IAsyncLifetime
{
    private string? _server;
    private string? _schema;
    private string _connection = string.Empty;

    private static Func<string, string?> NoEnvironment => _ => null;

    private async Task<StateSettings.Postgres?> SettingsAsync(string test)
    {
        if (_schema is null)
        {
            if (PostgresServer.Require(test) is not { } server)
            {
                return null;
            }

            _server = server;
            (_schema, _connection) = await PostgresServer.NewSchemaAsync(server);
        }

        return new StateSettings.Postgres(_connection);
    }

    protected override async Task<IStateStore?> OpenAsync(string test) =>
        await SettingsAsync(test) is { } settings ? await PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment) : null;

    protected override void PauseFeed(IStateStore store, Func<Task>? pause) => ((PostgresRunStore)store).FeedPause = pause;

    protected override async Task<long> CountAsync(string table) => (long)(await PostgresServer.ScalarAsync(_connection, $"SELECT count(*) FROM {table};"))!;

    [Fact]
    public async Task Opening_an_empty_schema_applies_every_migration_and_records_each_version()
    {
        if (await SettingsAsync(nameof(Opening_an_empty_schema_applies_every_migration_and_records_each_version)) is not { } settings)
        {
            return;
        }

        var first = await PostgresRunStore.MigrateAsync(settings, NoEnvironment);

        Assert.Equal(0, first.From);
        Assert.Equal(first.To, first.Applied[^1].Version);
        Assert.Equal(Enumerable.Range(1, first.To), first.Applied.Select(a => a.Version));
        Assert.Equal((long)first.To, await PostgresServer.ScalarAsync(_connection, "SELECT count(*) FROM schema_version;"));
        foreach (var table in new[] { "runs", "attempts", "events", "seen_blocks", "cursors", "requests", "change_counter" })
        {
            Assert.Equal(0L, await PostgresServer.ScalarAsync(_connection, $"SELECT count(*) FROM {table} WHERE false;"));
        }
    }

    [Fact]
    public async Task Migrating_a_current_schema_again_applies_nothing()
    {
        if (await SettingsAsync(nameof(Migrating_a_current_schema_again_applies_nothing)) is not { } settings)
        {
            return;
        }

        await (await PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment)).DisposeAsync();
        var again = await PostgresRunStore.MigrateAsync(settings, NoEnvironment);
        var through = await StateStores.MigrateAsync(settings, NoEnvironment, CancellationToken.None);

        Assert.Empty(again.Applied);
        Assert.Equal(again.To, again.From);
        Assert.Empty(through.Applied);
    }

    [Fact]
    public async Task Stores_opening_an_empty_schema_at_once_apply_each_migration_once_between_them()
    {
        if (await SettingsAsync(nameof(Stores_opening_an_empty_schema_at_once_apply_each_migration_once_between_them)) is not { } settings)
        {
            return;
        }

        var opened = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresRunStore.MigrateAsync(settings, NoEnvironment))));

        Assert.Equal(1, opened.Count(m => m.Applied.Count > 0));
        Assert.Equal(opened[0].To, opened.Select(m => m.To).Distinct().Single());
        Assert.Equal((long)opened[0].To, await PostgresServer.ScalarAsync(_connection, "SELECT count(*) FROM schema_version;"));
    }

    [Fact]
    public async Task Commits_from_stores_at_once_number_their_changes_in_commit_order_so_a_reader_resuming_by_id_misses_none()
    {
        const string Test = nameof(Commits_from_stores_at_once_number_their_changes_in_commit_order_so_a_reader_resuming_by_id_misses_none);
        await using var a = await OpenAsync(Test);
        if (a is null)
        {
            return;
        }

        await using var b = (await OpenAsync(Test))!;
        const int Commits = 60;
        using var done = new CancellationTokenSource();
        var seen = new List<long>();
        var reader = Task.Run(async () =>
        {
            var cursor = 0L;
            while (true)
            {
                var finished = done.IsCancellationRequested;
                foreach (var change in await a.ChangesAfterAsync(cursor, 7, CancellationToken.None))
                {
                    seen.Add(change.Id);
                    cursor = change.Id;
                }

                if (finished && cursor == await a.LastChangeIdAsync(CancellationToken.None))
                {
                    return;
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, Commits).Select(i => Task.Run(async () =>
        {
            var key = new RunKey("j" + (i % 5), Partition.Day(new DateOnly(2019, 1, 1).AddDays(i)));
            var run = new Run { Key = key, State = RunState.Queued, CreatedAt = T0 };
            var changes = new List<SchedulerEffect.RunChanged> { new(run, "queued", null), new(run with { State = RunState.Running, Attempt = 1, StartedAt = T0 }, "started", null) };
            if (i % 3 == 0)
            {
                changes.Insert(0, new(run with { Key = new RunKey("seen" + i, key.Partition), State = RunState.Succeeded, FinishedAt = T0 }, "succeeded", "done marker observed", Quiet: true));
            }

            await (i % 2 == 0 ? a : b).CommitAsync(changes, [], [], CancellationToken.None);
        })));
        await done.CancelAsync();
        await reader.WaitAsync(TimeSpan.FromSeconds(60));

        var all = (await b.ChangesAfterAsync(0, int.MaxValue, CancellationToken.None)).Select(c => c.Id).ToList();
        var expected = (Commits * 2) + ((Commits + 2) / 3);
        Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), all); // no gap, no repeat
        Assert.Equal(all, seen); // read while they were committed: nothing skipped
    }

    [Fact]
    public async Task A_schema_of_a_newer_version_is_refused_with_a_clear_message()
    {
        if (await SettingsAsync(nameof(A_schema_of_a_newer_version_is_refused_with_a_clear_message)) is not { } settings)
        {
            return;
        }

        await (await PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment)).DisposeAsync();
        await PostgresServer.ExecAsync(_connection, "INSERT INTO schema_version (version, description) VALUES (99, 'from the future');");

        var e = await Assert.ThrowsAsync<StateStoreException>(() => PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        Assert.Contains("understands version", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_with_tables_of_our_names_but_no_version_is_refused_not_adopted()
    {
        if (await SettingsAsync(nameof(A_schema_with_tables_of_our_names_but_no_version_is_refused_not_adopted)) is not { } settings)
        {
            return;
        }

        await PostgresServer.ExecAsync(_connection, "CREATE TABLE runs (id int);");

        var e = await Assert.ThrowsAsync<StateStoreException>(() => PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment));
        Assert.Contains("not a Cascade state", e.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await PostgresServer.ScalarAsync(_connection, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_version';"));
    }

    [Fact]
    public async Task A_server_that_is_down_is_a_clear_error_that_never_shows_the_password()
    {
        var closed = FreePort();
        var settings = new StateSettings.Postgres($"Host=127.0.0.1;Port={closed};Username=cascade;Password=hunter2;Timeout=5");

        var open = await Assert.ThrowsAsync<StateStoreException>(() => PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment));
        var migrate = await Assert.ThrowsAsync<StateStoreException>(() => StateStores.MigrateAsync(settings, NoEnvironment, CancellationToken.None));

        foreach (var e in new[] { open, migrate })
        {
            Assert.Contains("the database server cannot be reached (connection refused", e.Message, StringComparison.Ordinal);
            Assert.Contains($"Port={closed}", e.Message, StringComparison.Ordinal);
            Assert.Contains("Password=***", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_that_goes_down_under_an_open_store_is_a_state_error_not_a_crash()
    {
        if (await SettingsAsync(nameof(A_server_that_goes_down_under_an_open_store_is_a_state_error_not_a_crash)) is not { } settings)
        {
            return;
        }

        var name = "cascade-" + _schema;
        await using var store = await PostgresRunStore.OpenAsync(new StateSettings.Postgres(settings.ConnectionString + $";Application Name={name}"), TimeProvider.System, NoEnvironment);
        await store.PendingRequestsAsync(CancellationToken.None);

        // The server ends the store's connections (as a restart or a failover does), and its tables are gone.
        await PostgresServer.ExecAsync(_server!, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}';");
        await PostgresServer.ExecAsync(_server!, $"ALTER SCHEMA {_schema} RENAME TO {_schema}_gone;");
        try
        {
            var e = await Assert.ThrowsAsync<StateStoreException>(async () => await store.CommitAsync([], [new SchedulerEffect.CursorMoved("c", "v")], [], CancellationToken.None));
            Assert.StartsWith("cannot write the state postgres:", e.Message, StringComparison.Ordinal);
            var read = await Assert.ThrowsAsync<StateStoreException>(async () => await store.PendingRequestsAsync(CancellationToken.None));
            Assert.StartsWith("cannot read the state postgres:", read.Message, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresServer.ExecAsync(_server!, $"ALTER SCHEMA {_schema}_gone RENAME TO {_schema};");
        }
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_named_in_the_error()
    {
        if (PostgresServer.Require(nameof(A_database_that_does_not_exist_is_named_in_the_error)) is not { } server)
        {
            return;
        }

        var settings = new StateSettings.Postgres(new NpgsqlConnectionStringBuilder(server) { Database = "no_such_db", Password = "s3cret" }.ConnectionString);

        var e = await Assert.ThrowsAsync<StateStoreException>(() => PostgresRunStore.OpenAsync(settings, TimeProvider.System, NoEnvironment));

        Assert.Contains("database \"no_such_db\" does not exist", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_connection_string_takes_its_secrets_from_the_environment_and_an_unset_one_is_named()
    {
        var missing = await Assert.ThrowsAsync<StateStoreException>(() =>
            PostgresRunStore.OpenAsync(new StateSettings.Postgres("Host=127.0.0.1;Username=u;Password=${CASCADE_TEST_NO_SUCH_VAR}"), TimeProvider.System, NoEnvironment));
        Assert.Contains("environment variable CASCADE_TEST_NO_SUCH_VAR is not set", missing.Message, StringComparison.Ordinal);

        if (await SettingsAsync(nameof(The_connection_string_takes_its_secrets_from_the_environment_and_an_unset_one_is_named)) is not { } settings)
        {
            return;
        }

        var builder = new NpgsqlConnectionStringBuilder(settings.ConnectionString);
        var port = builder.Port;
        builder.Port = 1;
        var templated = new StateSettings.Postgres(builder.ConnectionString.Replace("Port=1", "Port=${PGPORT_FOR_TEST}", StringComparison.Ordinal));
        await using var store = await PostgresRunStore.OpenAsync(templated, TimeProvider.System, name => name == "PGPORT_FOR_TEST" ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        Assert.Equal(0, await store.LastChangeIdAsync(CancellationToken.None));
        Assert.Contains("${PGPORT_FOR_TEST}", store.Shown, StringComparison.Ordinal); // shown as written, never expanded
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null && _schema is not null)
        {
            await PostgresServer.DropSchemaAsync(_server, _schema);
        }
    }
}
