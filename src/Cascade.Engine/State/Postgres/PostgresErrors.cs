using System.Net.Sockets;
using Npgsql;

namespace Cascade.Engine.State.Postgres;

/// <summary>
/// The database's and the driver's errors as a person would put them, naming the state without its
/// password: "the database server cannot be reached" rather than a socket exception, "the login was
/// refused" rather than SQLSTATE 28P01.
/// </summary>
internal static class PostgresErrors
{
    /// <summary>Whether <paramref name="e"/> is the database's or the connection's (not a bug of ours).</summary>
    public static bool IsDatabase(Exception e) => e is NpgsqlException or TimeoutException or SocketException;

    /// <summary>An error for <paramref name="e"/>; <paramref name="doing"/> is e.g. "cannot write".</summary>
    public static StateStoreException Describe(string shown, string doing, Exception e) =>
        new($"{doing} the state {shown}: {Cause(e)}", e);

    private static string Cause(Exception e)
    {
        if (e is PostgresException pg)
        {
            return pg.SqlState switch
            {
                "28P01" or "28000" => $"the server refused the login ({pg.MessageText}): check Username and Password (or PGPASSWORD), and the server's pg_hba.conf",
                "3D000" => $"{pg.MessageText}: create it (CREATE DATABASE) or fix Database=",
                "42501" => $"permission denied ({pg.MessageText}): the user may not do this; run `cascade migrate` as the schema's owner, or grant the rights",
                "3F000" or "42P06" => $"{pg.MessageText}: create the schema or fix Search Path=",
                "57P01" or "57P02" or "57P03" => $"the database server is shutting down or starting ({pg.MessageText})",
                "53100" => $"the database server's disk is full ({pg.MessageText})",
                "53300" => $"the database server has too many connections ({pg.MessageText})",
                "25006" => $"the database is read-only ({pg.MessageText})",
                _ => $"{pg.MessageText} (SQLSTATE {pg.SqlState})",
            };
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return $"the database server cannot be reached ({socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused: is it running, on that host and port?",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name is unknown",
                    SocketError.TimedOut => "timed out",
                    _ => socket.Message,
                }})";
            }

            if (inner is TimeoutException)
            {
                return "the database server did not answer in time (Timeout= / Command Timeout= in the connection string)";
            }
        }

        return e.Message;
    }
}
