using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Cascade.Engine.State.Sqlite;

/// <summary>
/// A statement of the commit's hot path, compiled once on the connection's handle and bound by
/// position through SQLite's own API. Microsoft.Data.Sqlite binds every parameter by name (a
/// linear search in the parameter collection, then one in SQLite's list of names) and boxes and
/// converts each value; a commit of one finished job runs four to six statements of up to 21
/// values, so that was a large share of the engine's cost per job. Runs inside whatever
/// transaction the connection has open. Text is copied by SQLite as it is bound (SQLITE_TRANSIENT).
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _stmt;
    private readonly byte[] _scratch = new byte[64];

    public RawStatement(SqliteConnection connection, string sql)
    {
        _connection = connection;
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _stmt);
        if (rc != raw.SQLITE_OK)
        {
            _stmt?.Dispose();
            throw Error(rc);
        }
    }

    /// <summary>Binds text (null binds NULL); 1-based, as SQLite numbers <c>?NNN</c> parameters.</summary>
    public void Text(int index, string? value)
    {
        if (value is null)
        {
            Null(index);
            return;
        }

        Check(Encoding.UTF8.TryGetBytes(value, _scratch, out var n)
            ? raw.sqlite3_bind_text(_stmt, index, _scratch.AsSpan(0, n))
            : raw.sqlite3_bind_text(_stmt, index, value));
    }

    /// <summary>Binds UTF-8 text the caller keeps (names encoded once).</summary>
    public void Utf8(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_text(_stmt, index, value));

    public void Int(int index, long value) => Check(raw.sqlite3_bind_int64(_stmt, index, value));

    public void Int(int index, long? value)
    {
        if (value is { } v)
        {
            Int(index, v);
        }
        else
        {
            Null(index);
        }
    }

    /// <summary>A time as the store writes every time: the round-trip ("O") form in UTC, as <see cref="SqliteRunStore.Time"/>.</summary>
    public void Time(int index, DateTimeOffset? value)
    {
        if (value is not { } v)
        {
            Null(index);
            return;
        }

        Check(v.UtcDateTime.TryFormat(_scratch, out var n, "O", CultureInfo.InvariantCulture)
            ? raw.sqlite3_bind_text(_stmt, index, _scratch.AsSpan(0, n))
            : raw.sqlite3_bind_text(_stmt, index, SqliteRunStore.Time(v)));
    }

    public void Null(int index) => Check(raw.sqlite3_bind_null(_stmt, index));

    /// <summary>Runs the statement to its end and makes it ready for the next bindings.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_stmt);
        _ = raw.sqlite3_reset(_stmt);
        if (rc is not (raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw Error(rc);
        }
    }

    /// <summary>Runs a statement that yields one integer (0 when it yields none or NULL).</summary>
    public long ScalarInt()
    {
        var rc = raw.sqlite3_step(_stmt);
        try
        {
            return rc switch
            {
                raw.SQLITE_ROW => raw.sqlite3_column_int64(_stmt, 0),
                raw.SQLITE_DONE => 0,
                _ => throw Error(rc),
            };
        }
        finally
        {
            _ = raw.sqlite3_reset(_stmt);
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }
    }

    // The exception Microsoft.Data.Sqlite throws, so the store's error texts (SqliteErrors) apply.
    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_connection.Handle).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_connection.Handle));

    public void Dispose() => _stmt.Dispose();
}
