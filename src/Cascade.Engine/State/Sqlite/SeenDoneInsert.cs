using System.Text;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Cascade.Engine.State.Sqlite;

/// <summary>
/// Inserts runs first seen done by their marker, <see cref="RowsPerStatement"/> rows per statement,
/// through SQLite's own API on the connection's handle, inside the caller's transaction. A cold start
/// writes one such row per marker (365,000 in the bench's scale scenario), and Microsoft.Data.Sqlite
/// binds each parameter by name, which SQLite looks up by a linear search through the statement's
/// names and the provider boxes and converts each value: the cost per row grew with the rows per
/// statement, so it stopped at 4. Bound here by position from UTF-8 bytes (job and state names
/// encoded once), a 64-row statement costs less per row than a 4-row one.
/// </summary>
internal sealed class SeenDoneInsert : IDisposable
{
    public const int RowsPerStatement = 64;
    private const int Columns = 10;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, byte[]> _names = new(StringComparer.Ordinal);
    private readonly List<(Run Run, string Partition, long Seq)> _rows = new(RowsPerStatement);
    private sqlite3_stmt? _full;

    public SeenDoneInsert(SqliteConnection connection) => _connection = connection;

    public void Add(Run run, string partition, long seq)
    {
        _rows.Add((run, partition, seq));
        if (_rows.Count == RowsPerStatement)
        {
            Execute(_full ??= Prepare(RowsPerStatement));
        }
    }

    /// <summary>Inserts the rows still held (a statement of their own size).</summary>
    public void Flush()
    {
        if (_rows.Count == 0)
        {
            return;
        }

        using var last = Prepare(_rows.Count);
        Execute(last);
    }

    private void Execute(sqlite3_stmt stmt)
    {
        Span<byte> text = stackalloc byte[64];
        for (var i = 0; i < _rows.Count; i++)
        {
            var (run, partition, seq) = _rows[i];
            var p = (i * Columns) + 1;
            Check(raw.sqlite3_bind_text(stmt, p, Name(run.Key.Job)));
            Check(raw.sqlite3_bind_text(stmt, p + 1, Ascii(partition, text)));
            Check(raw.sqlite3_bind_int64(stmt, p + 2, run.Generation));
            Check(raw.sqlite3_bind_text(stmt, p + 3, Name(RunRows.StateName(run.State))));
            Check(raw.sqlite3_bind_text(stmt, p + 4, Time(run.CreatedAt, text)));
            Check(run.FinishedAt is { } finished ? raw.sqlite3_bind_text(stmt, p + 5, Time(finished, text)) : raw.sqlite3_bind_null(stmt, p + 5));
            Check(run.Cause is { } cause ? raw.sqlite3_bind_text(stmt, p + 6, Name(cause)) : raw.sqlite3_bind_null(stmt, p + 6));
            Check(run.Marker is { } marker ? raw.sqlite3_bind_text(stmt, p + 7, marker.ToJson()) : raw.sqlite3_bind_null(stmt, p + 7));
            Check(raw.sqlite3_bind_text(stmt, p + 8, run.Warnings.Count == 0 ? "[]"u8 : Encoding.UTF8.GetBytes(JsonSerializer.Serialize(run.Warnings, EngineJson.Default.IReadOnlyListString))));
            Check(raw.sqlite3_bind_int64(stmt, p + 9, seq));
        }

        var rc = raw.sqlite3_step(stmt);
        _ = raw.sqlite3_reset(stmt);
        _rows.Clear();
        if (rc != raw.SQLITE_DONE)
        {
            throw Error(rc);
        }
    }

    // Text bound with SQLITE_TRANSIENT (SQLite copies it), so the spans may be reused at once.
    private static ReadOnlySpan<byte> Ascii(string value, Span<byte> buffer) =>
        Encoding.UTF8.TryGetBytes(value, buffer, out var n) ? buffer[..n] : Encoding.UTF8.GetBytes(value);

    // As SqliteRunStore.Time writes it: the round-trip ("O") form of the UTC time.
    private static ReadOnlySpan<byte> Time(DateTimeOffset value, Span<byte> buffer) =>
        value.UtcDateTime.TryFormat(buffer[32..], out var n, "O", System.Globalization.CultureInfo.InvariantCulture)
            ? buffer.Slice(32, n)
            : Encoding.UTF8.GetBytes(SqliteRunStore.Time(value));

    private byte[] Name(string value)
    {
        if (!_names.TryGetValue(value, out var bytes))
        {
            bytes = Encoding.UTF8.GetBytes(value);
            _names[value] = bytes;
        }

        return bytes;
    }

    private sqlite3_stmt Prepare(int rows)
    {
        var values = new StringBuilder();
        for (var i = 0; i < rows; i++)
        {
            var p = (i * Columns) + 1;
            values.Append(i == 0 ? string.Empty : ",")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"(?{p},?{p + 1},?{p + 2},?{p + 3},0,0,?{p + 4},?{p + 5},?{p + 6},'{{}}','{{}}',?{p + 7},?{p + 8},?{p + 9})");
        }

        var sql = $"""
            INSERT INTO runs (job, partition, generation, state, attempt, failures, created_at, finished_at, cause, params, trigger_params, marker, warnings, seen_seq)
            VALUES {values}
            ON CONFLICT (partition, job, generation) DO UPDATE SET
                state = excluded.state, finished_at = excluded.finished_at, marker = excluded.marker, warnings = excluded.warnings, seen_seq = excluded.seen_seq;
            """;
        var rc = raw.sqlite3_prepare_v2(_connection.Handle, sql, out var stmt);
        if (rc != raw.SQLITE_OK)
        {
            stmt?.Dispose();
            throw Error(rc);
        }

        return stmt;
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }
    }

    // The same exception Microsoft.Data.Sqlite throws, so the store's error texts (SqliteErrors) apply.
    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_connection.Handle).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_connection.Handle));

    public void Dispose() => _full?.Dispose();
}
