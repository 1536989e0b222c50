using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 13, one node: the real <c>cascade</c> with <c>state: postgres:…</c> on the PostgreSQL that
/// scripts/test.sh starts: migrate, run, status, serve; one scheduler per state; the password
/// (from the environment) never printed.
/// </summary>
public sealed class PostgresStateTests : IDisposable
{
    private readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static void WritePipeline(TempWorkspace ws, PostgresSchema schema) => ws.Write("cascade.yaml", $$"""
        state: {{schema.State}}
        jobs:
          upstream:
            run: external
          down:
            after: [upstream]
            run: { command: [sh, -c, 'echo "$1" >> out.txt', sh, "{partition}"] }
        """);

    private static async Task<CliResult> CascadeAsync(string root, params string[] args)
    {
        await using var process = CascadeCli.Start(root, PostgresSchema.Environment, args);
        var result = await process.WaitForExitAsync(CascadeCli.Timeout);
        Assert.DoesNotContain(PostgresSchema.Password, result.Output, StringComparison.Ordinal);
        return result;
    }

    [Fact]
    public async Task Migrate_run_status_and_serve_work_on_a_postgres_state_and_never_print_its_password()
    {
        await using var schema = await PostgresSchema.CreateAsync(nameof(Migrate_run_status_and_serve_work_on_a_postgres_state_and_never_print_its_password));
        if (schema is null)
        {
            return;
        }

        WritePipeline(_ws, schema);
        (await CascadeAsync(_ws.Root, "validate")).AssertExitCode(0);
        var migrated = (await CascadeAsync(_ws.Root, "migrate", "--json")).AssertExitCode(0);
        using (var json = JsonDocument.Parse(migrated.StdOut))
        {
            Assert.Equal(0, json.RootElement.GetProperty("from").GetInt32());
            Assert.Equal(1, json.RootElement.GetProperty("applied")[0].GetProperty("version").GetInt32());
            Assert.Contains("Password=***", json.RootElement.GetProperty("state").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("nothing to apply", (await CascadeAsync(_ws.Root, "migrate")).AssertExitCode(0).StdOut, StringComparison.Ordinal);
        (await CascadeAsync(_ws.Root, "done", "upstream", "20190312")).AssertExitCode(0);
        var run = (await CascadeAsync(_ws.Root, "run", "--until-idle", "--no-web")).AssertExitCode(0);
        Assert.Contains("state in postgres:", run.StdOut, StringComparison.Ordinal);
        Assert.Equal("20190312\n", _ws.Read("out.txt"));
        Assert.False(File.Exists(_ws.PathOf(".cascade", "state.db")), "no SQLite file beside a PostgreSQL state");

        var status = (await CascadeAsync(_ws.Root, "status", "--json")).AssertExitCode(0);
        using (var json = JsonDocument.Parse(status.StdOut))
        {
            var states = json.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("job").GetString()!, r => r.GetProperty("state").GetString());
            Assert.Equal("succeeded", states["down"]);
            Assert.Equal("succeeded", states["upstream"]);
        }

        Assert.Equal(2L, await schema.ScalarAsync("SELECT count(*) FROM runs;"));

        // The same state through `serve`, with no scheduler: the API reads the database.
        var port = FreePort();
        await using var serve = CascadeCli.Start(_ws.Root, PostgresSchema.Environment, "serve", "--urls", $"http://127.0.0.1:{port}");
        await serve.WaitForOutputAsync(o => o.Contains("HTTP API on", StringComparison.Ordinal), "the API to listen", CascadeCli.Timeout);
        using var http = new HttpClient();
        var runs = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/runs?job=down"));
        using (var json = JsonDocument.Parse(runs))
        {
            Assert.Equal("succeeded", json.RootElement.GetProperty("runs")[0].GetProperty("state").GetString());
        }

        await serve.TerminateAsync();
        Assert.DoesNotContain(PostgresSchema.Password, (await serve.WaitForExitAsync(TimeSpan.FromSeconds(30))).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_scheduler_on_the_same_postgres_state_is_refused_even_from_another_folder()
    {
        await using var schema = await PostgresSchema.CreateAsync(nameof(A_second_scheduler_on_the_same_postgres_state_is_refused_even_from_another_folder));
        if (schema is null)
        {
            return;
        }

        using var other = new TempWorkspace();
        WritePipeline(_ws, schema);
        WritePipeline(other, schema);
        await using var first = CascadeCli.Start(_ws.Root, PostgresSchema.Environment, "run", "--no-web");
        await first.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);

        var second = await CascadeAsync(other.Root, "run", "--until-idle", "--no-web");

        second.AssertExitCode(1);
        Assert.Contains("another `cascade run` is using the state postgres:", second.StdErr, StringComparison.Ordinal);
        await first.TerminateAsync();
        (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).AssertExitCode(0);

        // Once it stopped, the database's lock is free again.
        (await CascadeAsync(other.Root, "run", "--until-idle", "--no-web")).AssertExitCode(0);
    }

    [Fact]
    public async Task A_backfill_beside_a_scheduler_in_another_folder_leaves_it_the_work_instead_of_running_a_second_scheduler()
    {
        await using var schema = await PostgresSchema.CreateAsync(nameof(A_backfill_beside_a_scheduler_in_another_folder_leaves_it_the_work_instead_of_running_a_second_scheduler));
        if (schema is null)
        {
            return;
        }

        using var other = new TempWorkspace();
        foreach (var ws in new[] { _ws, other })
        {
            ws.Write("cascade.yaml", $$"""
                state: {{schema.State}}
                jobs:
                  root:
                    start: 2019-03-01
                    run: { command: [sh, -c, 'echo "$1" >> ran.txt', sh, "{partition}"] }
                """);
        }

        await using var scheduler = CascadeCli.Start(_ws.Root, PostgresSchema.Environment, "run", "--no-web");
        await scheduler.WaitForOutputAsync(o => o.Contains("ready:", StringComparison.Ordinal), "the scheduler to be ready", CascadeCli.Timeout);

        var backfill = (await CascadeAsync(other.Root, "backfill", "--from", "2019-03-12", "--to", "2019-03-12", "--detach")).AssertExitCode(0);

        Assert.Contains("the running scheduler does it", backfill.StdOut, StringComparison.Ordinal);
        await scheduler.WaitForOutputAsync(o => o.Contains("20190312", StringComparison.Ordinal) && o.Contains("succeeded in", StringComparison.Ordinal), "the scheduler to run the backfill", CascadeCli.Timeout);
        Assert.Equal("20190312\n", _ws.Read("ran.txt")); // run by the scheduler's folder, once
        Assert.False(File.Exists(other.PathOf("ran.txt")));
        await scheduler.TerminateAsync();
        await scheduler.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_postgres_state_whose_server_is_down_is_one_clear_line_without_the_password()
    {
        _ws.Write("cascade.yaml", $$"""
            state: "postgres:Host=127.0.0.1;Port={{FreePort()}};Username=cascade;Password=${CASCADE_TEST_PG_PASSWORD};Timeout=5"
            jobs:
              a:
                run: external
            """);

        foreach (var command in new[] { new[] { "status" }, ["run", "--until-idle", "--no-web"], ["migrate"], ["trigger", "a", "20190312"] })
        {
            var result = await CascadeAsync(_ws.Root, command);

            result.AssertExitCode(1);
            Assert.Contains("the database server cannot be reached (connection refused", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("Password=***", result.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", result.Output, StringComparison.Ordinal);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
