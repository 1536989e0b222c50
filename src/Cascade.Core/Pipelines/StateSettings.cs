using System.Text;

namespace Cascade.Core.Pipelines;

/// <summary>
/// Where the scheduler's state lives, as the pipeline file's <c>state:</c> says (ADR 21): a closed
/// set of stores, parsed once by the loader so that no one slices the text again.
/// </summary>
public abstract record StateSettings
{
    private StateSettings()
    {
    }

    /// <summary>The default: <c>sqlite:.cascade/state.db</c>, relative to the pipeline file's folder.</summary>
    public static StateSettings Default { get; } = new Sqlite(".cascade/state.db");

    /// <summary>How people see the state in messages (a PostgreSQL password never shows).</summary>
    public abstract string Shown { get; }

    /// <summary>A SQLite file, as written (relative to the pipeline file's folder) or made absolute by the composition root.</summary>
    public sealed record Sqlite(string Path) : StateSettings
    {
        public override string Shown => Path;
    }

    /// <summary>
    /// A PostgreSQL database (Npgsql's <c>Key=Value;…</c> connection string), with <c>${NAME}</c>
    /// references still unexpanded: they are expanded from the environment when the store is opened,
    /// so a secret stays out of the file. Printing this record never prints the password.
    /// </summary>
    public sealed record Postgres(string ConnectionString) : StateSettings
    {
        public override string Shown => "postgres:" + Redact(ConnectionString);

        public override string ToString() => $"Postgres {{ ConnectionString = {Redact(ConnectionString)} }}";

        /// <summary>
        /// Only the keys of a connection string (<c>Host=…;Pasword=…</c>), for one that does not parse:
        /// a misspelt password key is not known to be one, so no value is shown.
        /// </summary>
        public static string KeysOnly(string connectionString) =>
            string.Join(";", connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(part => part.Contains('=', StringComparison.Ordinal) ? part[..part.IndexOf('=', StringComparison.Ordinal)].Trim() + "=…" : "…"));

        /// <summary>
        /// The connection string with the value of every password key (<c>Password</c>, <c>Pwd</c>,
        /// <c>Passfile</c> is a path and stays) replaced by <c>***</c>; quoting as Npgsql reads it.
        /// </summary>
        public static string Redact(string connectionString)
        {
            var sb = new StringBuilder(connectionString.Length);
            var i = 0;
            while (i < connectionString.Length)
            {
                var eq = connectionString.IndexOf('=', i);
                if (eq < 0)
                {
                    sb.Append(connectionString, i, connectionString.Length - i);
                    break;
                }

                var key = connectionString[i..eq];
                sb.Append(key).Append('=');
                var end = ValueEnd(connectionString, eq + 1);
                var secret = key.Trim().ToUpperInvariant() is "PASSWORD" or "PWD" or "PSW";
                sb.Append(secret ? "***" : connectionString[(eq + 1)..end]);
                if (end < connectionString.Length)
                {
                    sb.Append(';');
                }

                i = end + 1;
            }

            return sb.ToString();
        }

        /// <summary>Where a value starting at <paramref name="start"/> ends: the next <c>;</c> outside quotes.</summary>
        private static int ValueEnd(string s, int start)
        {
            var i = start;
            while (i < s.Length && s[i] == ' ')
            {
                i++;
            }

            if (i < s.Length && s[i] is '"' or '\'')
            {
                var quote = s[i];
                i++;
                while (i < s.Length)
                {
                    if (s[i] == quote)
                    {
                        if (i + 1 < s.Length && s[i + 1] == quote)
                        {
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    i++;
                }
            }

            var semi = s.IndexOf(';', i);
            return semi < 0 ? s.Length : semi;
        }
    }
}
