using System.Data;
using Npgsql;

namespace Cascade.Engine.State.Postgres;

public sealed partial class PostgresRunStore
{
    /// <summary>For tests: called in <see cref="ChangesAfterAsync"/> between reading the next block and the history lines before it.</summary>
    internal Func<Task>? FeedPause { get; set; }

    /// <summary>The history detail of a run first seen done (the core's words for it).</summary>
    private const string SeenDoneDetail = "done marker observed";

    /// <summary>
    /// The change feed (ADR 14): history lines by id and runs first seen done by their block,
    /// merged in number order. Read in one snapshot (repeatable read): a commit landing between the
    /// statements of one call can neither hide a block below the history lines read after it nor
    /// show half of itself. Numbers are handed out in commit order (ADR 21), so a reader that resumes
    /// after a number misses none and repeats none.
    /// </summary>
    public async ValueTask<IReadOnlyList<RunChange>> ChangesAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            var result = new List<RunChange>();
            var cursor = afterId;
            while (result.Count < limit)
            {
                (long First, long Last, string From, string To)? block = null;
                await using (var blocks = new NpgsqlCommand("SELECT first_seq, last_seq, from_partition, to_partition FROM seen_blocks WHERE last_seq > $1 ORDER BY last_seq LIMIT 1;", connection, tx))
                {
                    blocks.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
                    await using var reader = await blocks.ExecuteReaderAsync(cancellationToken);
                    if (await reader.ReadAsync(cancellationToken))
                    {
                        block = (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3));
                    }
                }

                if (FeedPause is { } pause)
                {
                    await pause();
                }

                // The history lines before the next block.
                await using (var events = new NpgsqlCommand("SELECT id, at, job, partition, generation, attempt, state, event, detail, activated_at, finished_at FROM events WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3;", connection, tx))
                {
                    events.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
                    events.Parameters.Add(new NpgsqlParameter<long> { TypedValue = block?.First ?? long.MaxValue });
                    events.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit - result.Count });
                    await using var reader = await events.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        var change = new RunChange(
                            reader.GetInt64(0),
                            PostgresRows.Time(reader, 1),
                            reader.GetString(2),
                            reader.GetString(3),
                            reader.GetInt32(4),
                            reader.GetInt32(5),
                            reader.GetString(6),
                            reader.GetString(7),
                            PostgresRows.OptText(reader, 8),
                            PostgresRows.OptTime(reader, 9),
                            PostgresRows.OptTime(reader, 10));
                        result.Add(change);
                        cursor = change.Id;
                    }
                }

                if (result.Count >= limit || block is not { } b)
                {
                    break;
                }

                // Then the block: its runs in key order are its change numbers in order.
                var asked = limit - result.Count;
                var read = 0;
                await using (var seen = new NpgsqlCommand("SELECT seen_seq, created_at, job, partition, generation FROM runs WHERE partition >= $1 AND partition <= $2 AND seen_seq > $3 AND seen_seq <= $4 ORDER BY partition, job, generation LIMIT $5;", connection, tx))
                {
                    seen.Parameters.Add(new NpgsqlParameter<string> { TypedValue = b.From });
                    seen.Parameters.Add(new NpgsqlParameter<string> { TypedValue = b.To });
                    seen.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
                    seen.Parameters.Add(new NpgsqlParameter<long> { TypedValue = b.Last });
                    seen.Parameters.Add(new NpgsqlParameter<long> { TypedValue = asked });
                    await using var reader = await seen.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        read++;
                        var at = PostgresRows.Time(reader, 1);
                        var change = new RunChange(reader.GetInt64(0), at, reader.GetString(2), reader.GetString(3), reader.GetInt32(4), 0, "succeeded", "succeeded", SeenDoneDetail, null, at);
                        result.Add(change);
                        cursor = change.Id;
                    }
                }

                if (read < asked)
                {
                    cursor = b.Last; // the block is read to its end
                }
            }

            await tx.CommitAsync(cancellationToken);
            return result;
        }
        catch (Exception e) when (PostgresErrors.IsDatabase(e))
        {
            throw PostgresErrors.Describe(Shown, "cannot read", e);
        }
    }

    /// <summary>The counter row holds the last number handed out by a committed transaction.</summary>
    public async ValueTask<long> LastChangeIdAsync(CancellationToken cancellationToken) =>
        (await ReadAsync("SELECT last_seq FROM change_counter;", _ => { }, r => r.GetInt64(0), cancellationToken)) is [var last] ? last : 0;
}
