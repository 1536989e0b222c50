using Cascade.Core.Scheduling;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;

namespace Cascade.Engine.Tests.State;

/// <summary>Issue 8, items 4, 10 and 18: the state file and its lock against what the environment does to them.</summary>
public sealed class StateFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cascade-state-").FullName;

    private string StatePath => Path.Combine(_dir, ".cascade", "state.db");

    [Fact]
    public void Regression_8_04_the_scheduler_lock_still_holds_after_the_state_folder_is_deleted()
    {
        using var first = SchedulerLock.Acquire(StatePath);
        Directory.Delete(Path.Combine(_dir, ".cascade"), recursive: true);

        var e = Assert.Throws<StateStoreException>(() => SchedulerLock.Acquire(StatePath));

        Assert.Contains("another `cascade run` is using", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_8_04_the_scheduler_lock_is_free_again_once_released()
    {
        SchedulerLock.Acquire(StatePath).Dispose();
        using var again = SchedulerLock.Acquire(StatePath);
        using var other = SchedulerLock.Acquire(Path.Combine(_dir, "other", "state.db"));
    }

    [Fact]
    public void Asking_whether_a_scheduler_holds_the_lock_never_takes_it()
    {
        Assert.False(SchedulerLock.IsHeld(StatePath));
        Assert.False(SchedulerLock.IsHeld(StatePath));
        using (var held = SchedulerLock.Acquire(StatePath))
        {
            Assert.True(SchedulerLock.IsHeld(StatePath));
        }

        Assert.False(SchedulerLock.IsHeld(StatePath));

        // A `logs --follow` asking while a scheduler starts must not make that scheduler refuse.
        using var again = SchedulerLock.Acquire(StatePath);
        Assert.True(SchedulerLock.IsHeld(StatePath));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Regression_8_04_a_store_whose_file_was_deleted_or_replaced_refuses_to_commit_and_to_read_requests(bool replace)
    {
        await using var store = await SqliteRunStore.OpenAsync(StatePath, TimeProvider.System);
        Directory.Delete(Path.Combine(_dir, ".cascade"), recursive: true);
        if (replace)
        {
            await (await SqliteRunStore.OpenAsync(StatePath, TimeProvider.System)).DisposeAsync();
        }

        var poll = await Assert.ThrowsAsync<StateStoreException>(async () => await store.PendingRequestsAsync(CancellationToken.None));
        var commit = await Assert.ThrowsAsync<StateStoreException>(async () => await store.CommitAsync([], [new SchedulerEffect.CursorMoved("c", "v")], [], CancellationToken.None));

        foreach (var e in new[] { poll, commit })
        {
            Assert.Contains(StatePath, e.Message, StringComparison.Ordinal);
            Assert.Contains(replace ? "was replaced" : "was deleted", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Regression_8_18_an_empty_state_file_is_refused_with_a_clear_error_not_re_initialised()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        await File.WriteAllBytesAsync(StatePath, []);

        var open = await Assert.ThrowsAsync<StateStoreException>(() => SqliteRunStore.OpenAsync(StatePath, TimeProvider.System));
        var read = await Assert.ThrowsAsync<StateStoreException>(() => SqliteRunStore.OpenForReadingAsync(StatePath, TimeProvider.System));

        Assert.All(new[] { open, read }, e => Assert.Contains($"the state file {StatePath} is empty (0 bytes)", e.Message, StringComparison.Ordinal));
        Assert.Equal(0, new FileInfo(StatePath).Length);
    }

    [Fact]
    public async Task A_new_state_file_appears_whole_and_leaves_no_temporary_file()
    {
        await using (var store = await SqliteRunStore.OpenAsync(StatePath, TimeProvider.System))
        {
            await store.CommitAsync([], [new SchedulerEffect.CursorMoved("c", "v")], [], CancellationToken.None);
        }

        Assert.True(new FileInfo(StatePath).Length > 0);
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.GetDirectoryName(StatePath)!), f => f.Contains(".tmp", StringComparison.Ordinal) || f.EndsWith("-journal", StringComparison.Ordinal));
        await using var reopened = await SqliteRunStore.OpenForReadingAsync(StatePath, TimeProvider.System);
        Assert.Equal("v", (await reopened.GetCursorsAsync(CancellationToken.None))["c"]);
    }

    [Fact]
    public async Task A_new_state_file_is_born_in_WAL_mode_so_opening_it_switches_no_journal()
    {
        await SqliteRunStore.CreateAsync(StatePath, CancellationToken.None);
        Assert.Equal([Path.GetFileName(StatePath)], Directory.EnumerateFiles(Path.GetDirectoryName(StatePath)!).Select(Path.GetFileName));

        // SQLite's header: bytes 18 and 19 are the file format versions, 2 for WAL (1 for a rollback journal).
        var header = new byte[20];
        await using (var file = File.OpenRead(StatePath))
        {
            await file.ReadExactlyAsync(header);
        }

        Assert.Equal("SQLite format 3\0", System.Text.Encoding.ASCII.GetString(header, 0, 16));
        Assert.Equal((byte)2, header[18]);
        Assert.Equal((byte)2, header[19]);
        await using var store = await SqliteRunStore.OpenForReadingAsync(StatePath, TimeProvider.System);
        Assert.Empty(await store.GetCursorsAsync(CancellationToken.None));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
