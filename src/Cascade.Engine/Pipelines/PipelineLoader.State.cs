using Cascade.Core.Pipelines;
using Cascade.Engine.State.Postgres;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private sealed partial class Reader
    {
        /// <summary><c>state: sqlite:PATH</c> (the default <c>sqlite:.cascade/state.db</c>) or <c>state: postgres:CONNECTION</c> (ADR 21).</summary>
        private StateSettings ReadState(YamlMappingNode root)
        {
            if (Get(root, "state") is not { } node || Scalar(node, "state") is not { } text)
            {
                return StateSettings.Default;
            }

            const string Usage = "use sqlite:PATH (e.g. sqlite:.cascade/state.db) or postgres:CONNECTION (e.g. postgres:Host=db;Database=cascade;Username=cascade;Password=${PGPASSWORD})";
            if (text.StartsWith("sqlite:", StringComparison.Ordinal))
            {
                var path = text["sqlite:".Length..].Trim();
                if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
                {
                    Error(node, $"state 'sqlite:' names no file: {Usage}");
                    return StateSettings.Default;
                }

                return new StateSettings.Sqlite(path);
            }

            if (text.StartsWith("postgres:", StringComparison.Ordinal) || text.StartsWith("postgresql:", StringComparison.Ordinal))
            {
                var connection = text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                if (PostgresConnection.Problem(connection) is { } problem)
                {
                    var shown = problem.StartsWith(PostgresConnection.Unparsable, StringComparison.Ordinal) ? StateSettings.Postgres.KeysOnly(connection) : StateSettings.Postgres.Redact(connection);
                    Error(node, $"state 'postgres:{shown}': {problem}");
                    return StateSettings.Default;
                }

                return new StateSettings.Postgres(connection);
            }

            var scheme = text.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && colon < 20 ? $"'{text[..colon]}:'" : $"'{(text.Length > 40 ? text[..40] + "…" : text)}'";
            Error(node, $"state {scheme} is not a supported store: {Usage}");
            return StateSettings.Default;
        }
    }
}
