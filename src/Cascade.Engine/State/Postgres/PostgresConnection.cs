using System.Text.RegularExpressions;
using Cascade.Core.Pipelines;
using Npgsql;

namespace Cascade.Engine.State.Postgres;

/// <summary>
/// The connection string of <c>state: postgres:…</c>: checked when the pipeline is loaded, its
/// <c>${NAME}</c> references expanded from the environment when the store is opened, and never
/// shown with its password (ADR 21).
/// </summary>
public static partial class PostgresConnection
{
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();

    /// <summary>How <see cref="Problem"/> begins for a string Npgsql cannot parse (then no value of it may be shown).</summary>
    public const string Unparsable = "not a valid connection string: ";

    /// <summary>What is wrong with a connection string as written, or null (values behind <c>${NAME}</c> are checked when opened).</summary>
    public static string? Problem(string connectionString)
    {
        if (connectionString.Length == 0)
        {
            return "the connection string is empty (e.g. postgres:Host=127.0.0.1;Database=cascade;Username=cascade)";
        }

        if (connectionString.Contains("${", StringComparison.Ordinal))
        {
            if (Variable().Replace(connectionString, string.Empty).Contains("${", StringComparison.Ordinal))
            {
                return "it has a malformed ${NAME} variable";
            }

            // Check the keys now, with each reference given a harmless value; the values are checked once expanded.
            return ParseProblem(Variable().Replace(connectionString, "1"), keysOnly: true);
        }

        return ParseProblem(connectionString, keysOnly: false);
    }

    /// <summary>Expands <c>${NAME}</c> from <paramref name="environment"/>; an unset variable is a <see cref="StateStoreException"/> naming it (never a value).</summary>
    public static string Expand(string connectionString, Func<string, string?> environment)
    {
        var missing = new List<string>();
        var expanded = Variable().Replace(connectionString, m =>
        {
            var value = environment(m.Groups["name"].Value);
            if (value is null)
            {
                missing.Add(m.Groups["name"].Value);
            }

            return value ?? string.Empty;
        });
        if (missing.Count > 0)
        {
            throw new StateStoreException($"cannot open the state postgres:{StateSettings.Postgres.Redact(connectionString)}: environment variable {string.Join(", ", missing.Distinct(StringComparer.Ordinal))} is not set");
        }

        if (ParseProblem(expanded, keysOnly: false) is { } problem)
        {
            var shown = problem.StartsWith(Unparsable, StringComparison.Ordinal) ? StateSettings.Postgres.KeysOnly(connectionString) : StateSettings.Postgres.Redact(connectionString);
            throw new StateStoreException($"cannot open the state postgres:{shown}: {problem}");
        }

        return expanded;
    }

    /// <summary>The parsed connection string, or what Npgsql finds wrong with it (without the password).</summary>
    private static string? ParseProblem(string connectionString, bool keysOnly)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            return Unparsable + Scrub(e.Message, connectionString);
        }

        if (!keysOnly && string.IsNullOrWhiteSpace(builder.Host) && Environment.GetEnvironmentVariable("PGHOST") is null)
        {
            return "it names no Host (e.g. Host=127.0.0.1)";
        }

        return null;
    }

    /// <summary>A message of Npgsql's with the password's value taken out, should it quote it.</summary>
    internal static string Scrub(string message, string connectionString)
    {
        try
        {
            if (new NpgsqlConnectionStringBuilder(connectionString).Password is { Length: > 0 } password)
            {
                return message.Replace(password, "***", StringComparison.Ordinal);
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // not parseable: take out every value of a password key by hand
        }

        var redacted = StateSettings.Postgres.Redact(connectionString);
        return message.Contains(connectionString, StringComparison.Ordinal) ? message.Replace(connectionString, redacted, StringComparison.Ordinal) : message;
    }
}
