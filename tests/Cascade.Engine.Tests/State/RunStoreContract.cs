using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.State;

namespace Cascade.Engine.Tests.State;

/// <summary>
/// What every state store does, whatever holds the state (STYLE: one suite per port, inherited by
/// each adapter's tests: <see cref="SqliteRunStoreTests"/>, <see cref="PostgresRunStoreTests"/>).
/// Each test has a state of its own; opening it again in the same test opens the same state.
/// </summary>
public abstract class RunStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
    private static readonly Partition Edge = Partition.Day(new DateOnly(9999, 12, 31)); // constructible, but outside the range

    /// <summary>Opens this test's state read-write (created on the first call); null when its server is not there (the test then did not run, outside CI).</summary>
    protected abstract Task<IStateStore?> OpenAsync(string test);

    /// <summary>Opens this test's state as the commands that only read do.</summary>
    protected virtual Task<IStateStore?> OpenForReadingAsync(string test) => OpenAsync(test);

    /// <summary>Makes the store call <paramref name="pause"/> inside its change-feed read, between reading the next block and the history lines before it.</summary>
    protected abstract void PauseFeed(IStateStore store, Func<Task>? pause);

    /// <summary>The rows of one of the store's tables, counted behind its back.</summary>
    protected abstract Task<long> CountAsync(string table);

    private static Run SeenDone(string job, string partition, DateTimeOffset at) => new()
    {
        Key = new RunKey(job, Partition.Parse(partition)),
        State = RunState.Succeeded,
        CreatedAt = at,
        FinishedAt = at,
        Cause = "marker",
        Marker = MarkerBody.Empty,
    };

    private static SchedulerEffect.RunChanged Quiet(Run run) => new(run, "succeeded", "done marker observed", Quiet: true);

    [Fact]
    public async Task A_run_round_trips_with_every_field()
    {
        var key = new RunKey("revenue", Partition.Parse("20190312"));
        var run = new Run
        {
            Key = key,
            State = RunState.Queued,
            Attempt = 2,
            Failures = 1,
            CreatedAt = T0,
            QueuedAt = T0.AddSeconds(1),
            ActivatedAt = T0.AddSeconds(2),
            StartedAt = T0.AddSeconds(3),
            NextRetryAt = T0.AddSeconds(60),
            WaitDeadline = T0.AddHours(6),
            Cause = "inputs",
            Backfill = "bf1",
            Params = new SortedDictionary<string, string> { ["currency"] = "EUR" },
            TriggerParams = new SortedDictionary<string, string> { ["x"] = "y" },
            Marker = MarkerBody.Parse("""{"rows": 3, "params": {"a": "b"}}"""),
            ExitCode = 3,
            Reason = "exited with code 3",
            Warnings = ["w1"],
        };
        await using (var store = await OpenAsync(nameof(A_run_round_trips_with_every_field)))
        {
            if (store is null)
            {
                return;
            }

            await store.CommitAsync([new SchedulerEffect.RunChanged(run, "retry", "x")], [], [], CancellationToken.None);
        }

        await using var reopened = (await OpenAsync(nameof(A_run_round_trips_with_every_field)))!;
        var loaded = Assert.Single((await reopened.LoadAsync(CancellationToken.None)).Runs);
        Assert.Equal(run.Key, loaded.Key);
        Assert.Equal(run.State, loaded.State);
        Assert.Equal(run.Attempt, loaded.Attempt);
        Assert.Equal(run.Failures, loaded.Failures);
        Assert.Equal(run.CreatedAt, loaded.CreatedAt);
        Assert.Equal(run.QueuedAt, loaded.QueuedAt);
        Assert.Equal(run.ActivatedAt, loaded.ActivatedAt);
        Assert.Equal(run.NextRetryAt, loaded.NextRetryAt);
        Assert.Equal(run.StartedAt, loaded.StartedAt);
        Assert.Equal(run.WaitDeadline, loaded.WaitDeadline);
        Assert.Null(loaded.FinishedAt);
        Assert.Equal("inputs", loaded.Cause);
        Assert.Equal("bf1", loaded.Backfill);
        Assert.Equal("EUR", loaded.Params["currency"]);
        Assert.Equal("y", loaded.TriggerParams["x"]);
        Assert.Equal(3, loaded.Marker!.Meta["rows"].GetInt32());
        Assert.Equal("b", loaded.Marker.Params["a"]);
        Assert.Equal(run.Marker.ToJson(), loaded.Marker.ToJson()); // the body byte for byte: the start-up repair writes it again
        Assert.Equal(3, loaded.ExitCode);
        Assert.Equal("exited with code 3", loaded.Reason);
        Assert.Equal(["w1"], loaded.Warnings);
        var events = await reopened.GetEventsAsync(key, CancellationToken.None);
        Assert.Equal("retry", Assert.Single(events).Event);
    }

    [Fact]
    public async Task A_trigger_request_is_taken_by_the_commit_that_answers_it_and_then_never_handed_out_again()
    {
        await using var store = await OpenAsync(nameof(A_trigger_request_is_taken_by_the_commit_that_answers_it_and_then_never_handed_out_again));
        if (store is null)
        {
            return;
        }

        var id = await store.EnqueueRequestAsync(new Request(Request.Trigger, new RunKey("a", Partition.Parse("2019031205")), new Dictionary<string, string> { ["k"] = "v" }, T0), CancellationToken.None);

        var first = await store.PendingRequestsAsync(CancellationToken.None);
        var again = await store.PendingRequestsAsync(CancellationToken.None);
        Assert.False(await store.IsRequestTakenAsync(id, CancellationToken.None));
        Assert.Null((await store.GetRequestAsync(id, CancellationToken.None))!.TakenAt);
        await store.CommitAsync([], [], [id], CancellationToken.None);
        var second = await store.PendingRequestsAsync(CancellationToken.None);

        Assert.Equal(first.Select(r => r.Id), again.Select(r => r.Id)); // read, not taken: a scheduler that dies before its commit leaves it for the next one
        Assert.True(await store.IsRequestTakenAsync(id, CancellationToken.None));
        var status = (await store.GetRequestAsync(id, CancellationToken.None))!;
        Assert.Equal(("trigger", "a", "2019031205", T0), (status.Kind, status.Job, status.Partition, status.At));
        Assert.NotNull(status.TakenAt);
        Assert.Null(await store.GetRequestAsync(id + 1000, CancellationToken.None));

        var request = Assert.Single(first);
        Assert.Equal(id, request.Id);
        Assert.Equal("2019031205", request.Key!.Value.Partition.Key);
        Assert.Equal("v", request.Params["k"]);
        Assert.Equal(T0, request.At);
        Assert.Empty(second);
    }

    [Fact]
    public async Task Attempts_record_start_and_end_with_exit_codes()
    {
        var key = new RunKey("a", Partition.Parse("20190312"));
        var running = new Run { Key = key, State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0 };
        await using var store = await OpenAsync(nameof(Attempts_record_start_and_end_with_exit_codes));
        if (store is null)
        {
            return;
        }

        await store.CommitAsync([new SchedulerEffect.RunChanged(running, "started", null)], [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running with { State = RunState.Failed, ExitCode = 2, FinishedAt = T0.AddSeconds(5) }, "failed", "boom")], [], [], CancellationToken.None);

        var attempt = Assert.Single(await store.GetAttemptsAsync(key, CancellationToken.None));
        Assert.Equal(2, attempt.ExitCode);
        Assert.Equal(T0, attempt.StartedAt);
        Assert.Equal(T0.AddSeconds(5), attempt.FinishedAt);
        Assert.Equal("failed", attempt.Outcome);
        _ = JsonSerializer.Serialize(attempt);
    }

    [Fact]
    public async Task Cursors_are_set_replaced_and_dropped_with_the_commit()
    {
        await using var store = await OpenAsync(nameof(Cursors_are_set_replaced_and_dropped_with_the_commit));
        if (store is null)
        {
            return;
        }

        await store.CommitAsync([], [new SchedulerEffect.CursorMoved("tick:a", "1"), new SchedulerEffect.CursorMoved("sla:b", "x")], [], CancellationToken.None);
        await store.CommitAsync([], [new SchedulerEffect.CursorMoved("tick:a", "2"), new SchedulerEffect.CursorMoved("sla:b", null)], [], CancellationToken.None);

        var cursors = await store.GetCursorsAsync(CancellationToken.None);
        Assert.Equal(new Dictionary<string, string> { ["tick:a"] = "2" }, cursors);
        Assert.Equal(cursors, (await store.LoadAsync(CancellationToken.None)).Cursors);
        Assert.Equal(0, await store.LastChangeIdAsync(CancellationToken.None)); // cursors are not run changes
    }

    [Fact]
    public async Task Queries_filter_by_job_state_range_and_generation_and_page_newest_first()
    {
        await using var store = await OpenAsync(nameof(Queries_filter_by_job_state_range_and_generation_and_page_newest_first));
        if (store is null)
        {
            return;
        }

        Run At(string job, string partition, RunState state, int generation = 1) =>
            new() { Key = new RunKey(job, Partition.Parse(partition)), State = state, Generation = generation, CreatedAt = T0 };
        await store.CommitAsync(
            [
                new(At("a", "20190311", RunState.Succeeded), "succeeded", null),
                new(At("a", "20190312", RunState.Succeeded), "succeeded", null),
                new(At("a", "20190312", RunState.Queued, generation: 2), "queued", "replay"),
                new(At("b", "20190312", RunState.Failed), "failed", null),
                new(At("h", "2019031223", RunState.Waiting), "waiting", null),
                new(At("a_b", "20190313", RunState.Waiting), "waiting", null),
                new(At("a-b", "20190313", RunState.Waiting), "waiting", null),
            ],
            [],
            [],
            CancellationToken.None);

        async Task<List<string>> Keys(RunQuery q) => (await store.QueryRunsAsync(q, CancellationToken.None)).Select(r => $"{r.Key.Job} {r.Key.Partition.Key} g{r.Generation}").ToList();
        Assert.Equal(["a 20190311 g1", "a 20190312 g2", "b 20190312 g1", "h 2019031223 g1", "a-b 20190313 g1", "a_b 20190313 g1"], await Keys(new RunQuery()));
        Assert.Equal(["a 20190311 g1", "a 20190312 g1", "a 20190312 g2"], await Keys(new RunQuery { Job = "a", AllGenerations = true }));
        Assert.Equal(["a 20190312 g2", "b 20190312 g1", "h 2019031223 g1"], await Keys(new RunQuery { From = "20190312", To = "20190312" })); // a daily To takes its hours
        Assert.Equal(["b 20190312 g1"], await Keys(new RunQuery { State = RunState.Failed }));
        Assert.Equal(["a 20190312 g2"], await Keys(new RunQuery { Backfill = null, State = RunState.Queued }));
        Assert.Equal(["a-b 20190313 g1", "a_b 20190313 g1"], await Keys(new RunQuery { NewestFirst = true, Limit = 2 }));
        Assert.Equal(["h 2019031223 g1", "a 20190312 g2"], await Keys(new RunQuery { NewestFirst = true, Limit = 2, After = ("20190313", "a_b") }));
        Assert.Equal(RunState.Queued, (await store.GetRunAsync(new RunKey("a", Partition.Parse("20190312")), CancellationToken.None))!.State);
        Assert.Null(await store.GetRunAsync(new RunKey("zz", Partition.Parse("20190312")), CancellationToken.None));

        var counts = (await store.CountRunsAsync(CancellationToken.None)).Select(c => $"{c.Job} {c.State} {c.Count}");
        Assert.Equal(["a queued 1", "a succeeded 1", "a-b waiting 1", "a_b waiting 1", "b failed 1", "h waiting 1"], counts);
        var cells = (await store.RunCellsAsync("20190312", "20190312", CancellationToken.None)).Select(c => $"{c.Job} {c.Partition} {c.State}");
        Assert.Equal(["a 20190312 queued", "b 20190312 failed", "h 2019031223 waiting"], cells);
        Assert.Equal("20190313", await store.LatestPartitionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Runs_seen_done_in_bulk_read_back_field_for_field_whatever_the_rows_per_statement()
    {
        // More rows than one bulk statement holds (SQLite: 64), and a remainder; bodies, warnings, hours and odd text.
        var runs = new List<Run>();
        for (var i = 0; i < 150; i++)
        {
            var day = new DateOnly(2019, 1, 1).AddDays(i / 3).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
            var run = SeenDone($"job_{i % 3}", i % 5 == 0 ? day + "07" : day, T0.AddMilliseconds(i * 1001.5));
            runs.Add(i % 4 == 0
                ? run with { Marker = MarkerBody.Parse($$"""{"params": {"n": "{{i}}", "name": "ü'\"; DROP"}, "rows": {{i}}}"""), Warnings = [$"warning {i} ü"] }
                : run);
        }

        await using (var store = await OpenAsync(nameof(Runs_seen_done_in_bulk_read_back_field_for_field_whatever_the_rows_per_statement)))
        {
            if (store is null)
            {
                return;
            }

            await store.CommitAsync(runs.Select(Quiet).Reverse().ToList(), [], [], CancellationToken.None);
        }

        await using var reopened = (await OpenAsync(nameof(Runs_seen_done_in_bulk_read_back_field_for_field_whatever_the_rows_per_statement)))!;
        foreach (var expected in runs)
        {
            var actual = await reopened.GetRunAsync(expected.Key, CancellationToken.None);
            Assert.NotNull(actual);
            Assert.Equal(
                (expected.State, expected.Generation, expected.CreatedAt, expected.FinishedAt, expected.Cause, expected.Marker?.ToJson(), string.Join("|", expected.Warnings)),
                (actual.State, actual.Generation, actual.CreatedAt, actual.FinishedAt, actual.Cause, actual.Marker?.ToJson(), string.Join("|", actual.Warnings)));
        }

        var feed = await reopened.ChangesAfterAsync(0, 1000, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, runs.Count).Select(i => (long)i), feed.Select(c => c.Id));
        Assert.Equal(runs.Select(r => (r.Key.Job, r.Key.Partition.Key)).Order(), feed.Select(c => (c.Job, c.Partition)).Order());
    }

    [Fact]
    public async Task Runs_first_seen_done_are_in_the_feed_without_a_history_line()
    {
        await using var store = await OpenAsync(nameof(Runs_first_seen_done_are_in_the_feed_without_a_history_line));
        if (store is null)
        {
            return;
        }

        Assert.Equal(0, await store.LastChangeIdAsync(CancellationToken.None));
        Assert.Null(await store.LatestPartitionAsync(CancellationToken.None));
        await store.CommitAsync([Quiet(SeenDone("extract", "20190312", T0)), Quiet(SeenDone("extract", "20190313", T0.AddSeconds(1)))], [], [], CancellationToken.None);

        var changes = await store.ChangesAfterAsync(0, 100, CancellationToken.None);

        Assert.Equal([1L, 2L], changes.Select(c => c.Id));
        Assert.Equal(["extract 20190312", "extract 20190313"], changes.Select(c => $"{c.Job} {c.Partition}"));
        Assert.All(changes, c => Assert.Equal("succeeded", c.State));
        Assert.Equal(T0.AddSeconds(1), changes[1].FinishedAt);
        Assert.Equal(2, await store.LastChangeIdAsync(CancellationToken.None));
        Assert.Empty(await store.GetEventsAsync(new RunKey("extract", Partition.Parse("20190312")), CancellationToken.None)); // still one row per run, no history line
        Assert.Equal(0, await CountAsync("events"));
    }

    [Fact]
    public async Task History_lines_and_runs_seen_done_share_one_growing_sequence_across_commits_and_reopens()
    {
        const string Test = nameof(History_lines_and_runs_seen_done_share_one_growing_sequence_across_commits_and_reopens);
        var running = new Run { Key = new RunKey("load", Partition.Parse("20190312")), State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0, ActivatedAt = T0 };
        await using (var store = await OpenAsync(Test))
        {
            if (store is null)
            {
                return;
            }

            await store.CommitAsync([Quiet(SeenDone("extract", "20190312", T0)), new SchedulerEffect.RunChanged(running, "started", "attempt 1")], [], [], CancellationToken.None);
        }

        await using (var store = (await OpenAsync(Test))!)
        {
            var done = running with { State = RunState.Succeeded, FinishedAt = T0.AddSeconds(2) };
            await store.CommitAsync([new SchedulerEffect.RunChanged(done, "succeeded", "exit 0"), Quiet(SeenDone("extract", "20190313", T0))], [], [], CancellationToken.None);
        }

        await using var reader = (await OpenForReadingAsync(Test))!;
        var changes = await reader.ChangesAfterAsync(0, 100, CancellationToken.None);

        // Within a commit: its runs seen done (the causes), then its history lines; commits in order.
        Assert.Equal(["1 extract succeeded", "2 load running", "3 extract succeeded", "4 load succeeded"], changes.Select(c => $"{c.Id} {c.Job} {c.State}"));
        Assert.Equal(T0, changes[1].ActivatedAt);
        Assert.Null(changes[1].FinishedAt);
        Assert.Equal(T0, changes[3].ActivatedAt);
        Assert.Equal(T0.AddSeconds(2), changes[3].FinishedAt);
        Assert.Equal("attempt 1", changes[1].Detail);
    }

    [Fact]
    public async Task Reading_from_any_change_number_in_any_page_size_gives_each_later_change_once_in_order()
    {
        // A cold start's shape: many runs seen done over several days and jobs, hourly among daily,
        // committed in two batches, with history lines between.
        var first = new List<SchedulerEffect.RunChanged>();
        var second = new List<SchedulerEffect.RunChanged>();
        foreach (var day in new[] { "20190314", "20190312", "20190313" })
        {
            foreach (var job in new[] { "b", "a", "c", "a_b", "a-b" })
            {
                first.Add(Quiet(SeenDone(job, day, T0)));
            }

            first.Add(Quiet(SeenDone("h", day + "05", T0)));
            second.Add(Quiet(SeenDone("z", day, T0)));
        }

        var running = new Run { Key = new RunKey("load", Partition.Parse("20190312")), State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0 };
        await using var store = await OpenAsync(nameof(Reading_from_any_change_number_in_any_page_size_gives_each_later_change_once_in_order));
        if (store is null)
        {
            return;
        }

        await store.CommitAsync(first, [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running, "started", null), .. second], [], [], CancellationToken.None);
        await store.CommitAsync([new SchedulerEffect.RunChanged(running with { State = RunState.Succeeded, FinishedAt = T0 }, "succeeded", null)], [], [], CancellationToken.None);

        var all = await store.ChangesAfterAsync(0, int.MaxValue, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, first.Count + second.Count + 2).Select(i => (long)i), all.Select(c => c.Id));
        Assert.Equal(first.Count + second.Count, all.Count(c => c.Event == "succeeded" && c.Attempt == 0));
        Assert.Equal(all.Select(c => $"{c.Job} {c.Partition}").Distinct().Count(), all.Count - 1); // load twice, every other run once
        var blocks = await CountAsync("seen_blocks");
        Assert.True(blocks <= 6, $"one block per day and commit, got {blocks}");

        foreach (var after in Enumerable.Range(0, all.Count + 1))
        {
            foreach (var page in new[] { 1, 2, 5, 100 })
            {
                var read = new List<long>();
                var cursor = (long)after;
                while (true)
                {
                    var got = await store.ChangesAfterAsync(cursor, page, CancellationToken.None);
                    Assert.True(got.Count <= page);
                    if (got.Count == 0)
                    {
                        break;
                    }

                    read.AddRange(got.Select(c => c.Id));
                    cursor = got[^1].Id;
                }

                Assert.Equal(all.Skip(after).Select(c => c.Id), read);
            }
        }
    }

    [Fact]
    public async Task Regression_8_09_requests_and_runs_stored_with_partitions_outside_the_range_are_read_as_malformed_and_never_reach_the_core()
    {
        await using var store = await OpenAsync(nameof(Regression_8_09_requests_and_runs_stored_with_partitions_outside_the_range_are_read_as_malformed_and_never_reach_the_core));
        if (store is null)
        {
            return;
        }

        var ok = Partition.Parse("20190312");
        await store.EnqueueRequestAsync(new Request(Request.Trigger, new RunKey("revenue", Edge), new Dictionary<string, string>(), T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForReplay("revenue", ok, Edge, downstream: true, force: false, T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForBackfill("bf", [], new DateOnly(9999, 12, 30), new DateOnly(9999, 12, 31), null, T0), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForCancel(null, new RunKey("revenue", ok), T0, Edge), CancellationToken.None);
        var old = new Run { Key = new RunKey("revenue", Edge), State = RunState.Queued, CreatedAt = T0, Cause = "trigger" };
        await store.CommitAsync([new SchedulerEffect.RunChanged(old, "queued", "trigger")], [], [], CancellationToken.None);

        var pending = await store.PendingRequestsAsync(CancellationToken.None);
        var snapshot = await store.LoadAsync(CancellationToken.None);

        Assert.Equal(4, pending.Count);
        Assert.All(pending, r => Assert.Null(r.ToInput(T0)));
        Assert.Empty(snapshot.Runs);
    }

    [Fact]
    public async Task Regression_8_07_a_cancel_range_request_round_trips_to_the_core_input()
    {
        await using var store = await OpenAsync(nameof(Regression_8_07_a_cancel_range_request_round_trips_to_the_core_input));
        if (store is null)
        {
            return;
        }

        var key = new RunKey("revenue", Partition.Parse("20190313"));
        await store.EnqueueRequestAsync(Request.ForCancel(null, key, T0, Partition.Parse("20261201")), CancellationToken.None);
        await store.EnqueueRequestAsync(Request.ForCancel(null, key, T0), CancellationToken.None);

        var inputs = (await store.PendingRequestsAsync(CancellationToken.None)).Select(r => r.ToInput(T0)).ToList();

        Assert.Equal(new SchedulerInput.CancelRequested(null, key, T0, Partition.Parse("20261201")), inputs[0]);
        Assert.Equal(new SchedulerInput.CancelRequested(null, key, T0), inputs[1]);
    }

    [Fact]
    public async Task A_NUL_character_from_a_marker_is_stored_not_a_failed_commit()
    {
        // A hostile marker's values must never stop the scheduler (guarantee 4): its params and
        // body are JSON text (kept exactly), a free-text detail may lose the NUL itself.
        var key = new RunKey("load", Partition.Parse("20190312"));
        var run = new Run
        {
            Key = key,
            State = RunState.Succeeded,
            CreatedAt = T0,
            FinishedAt = T0,
            Params = new SortedDictionary<string, string> { ["p"] = "a\0b" },
            Marker = MarkerBody.Parse("{\"params\": {\"p\": \"a\\u0000b\"}, \"note\": \"x\\u0000\"}"),
            Warnings = ["bad\0name"],
            Reason = "r\0",
        };
        await using var store = await OpenAsync(nameof(A_NUL_character_from_a_marker_is_stored_not_a_failed_commit));
        if (store is null)
        {
            return;
        }

        await store.CommitAsync([new SchedulerEffect.RunChanged(run, "succeeded", "detail \0 here")], [], [], CancellationToken.None);

        var loaded = (await store.GetRunAsync(key, CancellationToken.None))!;
        Assert.Equal("a\0b", loaded.Params["p"]);
        Assert.Equal("a\0b", loaded.Marker!.Params["p"]);
        Assert.Equal(["bad\0name"], loaded.Warnings);
        Assert.StartsWith("detail ", Assert.Single(await store.GetEventsAsync(key, CancellationToken.None)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_13_a_commit_landing_while_the_feed_is_read_is_seen_whole_on_a_later_read_never_skipped()
    {
        // Found while porting the feed: `serve` reads the feed beside a separate `cascade run`. A
        // commit that lands between the feed's statements (a run first seen done, then a history
        // line) must not let the cursor pass its block by.
        const string Test = nameof(Regression_13_a_commit_landing_while_the_feed_is_read_is_seen_whole_on_a_later_read_never_skipped);
        await using var reader = await OpenAsync(Test);
        if (reader is null)
        {
            return;
        }

        await using var writer = (await OpenAsync(Test))!;
        var running = new Run { Key = new RunKey("load", Partition.Parse("20190312")), State = RunState.Running, Attempt = 1, CreatedAt = T0, StartedAt = T0 };
        await writer.CommitAsync([new SchedulerEffect.RunChanged(running, "started", null)], [], [], CancellationToken.None);
        var once = 0;
        PauseFeed(reader, async () =>
        {
            if (Interlocked.Increment(ref once) == 1)
            {
                await writer.CommitAsync([Quiet(SeenDone("extract", "20190313", T0)), new SchedulerEffect.RunChanged(running with { State = RunState.Succeeded, FinishedAt = T0 }, "succeeded", null)], [], [], CancellationToken.None);
            }
        });

        var read = new List<long>();
        var cursor = 0L;
        for (var pass = 0; pass < 5; pass++)
        {
            foreach (var change in await reader.ChangesAfterAsync(cursor, 100, CancellationToken.None))
            {
                read.Add(change.Id);
                cursor = change.Id;
            }
        }

        Assert.Equal([1L, 2L, 3L], read);
    }
}
