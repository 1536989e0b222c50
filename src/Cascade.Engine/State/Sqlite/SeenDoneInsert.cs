using System.Text;
using System.Text.Json;
using Cascade.Core.Scheduling;
using Microsoft.Data.Sqlite;

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
    private RawStatement? _full;

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
        if (_rows.Count > 0)
        {
            using var last = Prepare(_rows.Count);
            Execute(last);
        }
    }

    private void Execute(RawStatement stmt)
    {
        for (var i = 0; i < _rows.Count; i++)
        {
            var (run, partition, seq) = _rows[i];
            var p = (i * Columns) + 1;
            stmt.Utf8(p, Name(run.Key.Job));
            stmt.Text(p + 1, partition);
            stmt.Int(p + 2, run.Generation);
            stmt.Utf8(p + 3, Name(RunRows.StateName(run.State)));
            stmt.Time(p + 4, run.CreatedAt);
            stmt.Time(p + 5, run.FinishedAt);
            stmt.Text(p + 6, run.Cause);
            stmt.Text(p + 7, run.Marker?.ToJson());
            stmt.Text(p + 8, run.Warnings.Count == 0 ? "[]" : JsonSerializer.Serialize(run.Warnings, EngineJson.Default.IReadOnlyListString));
            stmt.Int(p + 9, seq);
        }

        stmt.Execute();
        _rows.Clear();
    }

    // Job and state names recur on every row: encoded once.
    private byte[] Name(string value)
    {
        if (!_names.TryGetValue(value, out var bytes))
        {
            bytes = Encoding.UTF8.GetBytes(value);
            _names[value] = bytes;
        }

        return bytes;
    }

    private RawStatement Prepare(int rows)
    {
        var values = new StringBuilder();
        for (var i = 0; i < rows; i++)
        {
            var p = (i * Columns) + 1;
            values.Append(i == 0 ? string.Empty : ",")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"(?{p},?{p + 1},?{p + 2},?{p + 3},0,0,?{p + 4},?{p + 5},?{p + 6},'{{}}','{{}}',?{p + 7},?{p + 8},?{p + 9})");
        }

        return new RawStatement(_connection, $"""
            INSERT INTO runs (job, partition, generation, state, attempt, failures, created_at, finished_at, cause, params, trigger_params, marker, warnings, seen_seq)
            VALUES {values}
            ON CONFLICT (partition, job, generation) DO UPDATE SET
                state = excluded.state, finished_at = excluded.finished_at, marker = excluded.marker, warnings = excluded.warnings, seen_seq = excluded.seen_seq;
            """);
    }

    public void Dispose() => _full?.Dispose();
}
