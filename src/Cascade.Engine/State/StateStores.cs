using Cascade.Core.Pipelines;
using Cascade.Engine.State.Postgres;
using Cascade.Engine.State.Sqlite;

namespace Cascade.Engine.State;

/// <summary>
/// The one place that turns <see cref="StateSettings"/> into a store (ADR 21): the composition root
/// (CLI, HTTP API) opens every state through here. A SQLite path must already be absolute (the
/// composition root resolves it against the pipeline file's folder).
/// </summary>
public static class StateStores
{
    /// <summary>Opens the state read-write, creating or migrating its schema.</summary>
    public static async Task<IStateStore> OpenAsync(StateSettings settings, TimeProvider time, Func<string, string?> environment, CancellationToken cancellationToken) => settings switch
    {
        StateSettings.Sqlite sqlite => await SqliteRunStore.OpenAsync(sqlite.Path, time, cancellationToken),
        StateSettings.Postgres postgres => await PostgresRunStore.OpenAsync(postgres, time, environment, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(settings)),
    };

    /// <summary>For commands that only read: a SQLite file that cannot be written is opened read-only (ADR 8).</summary>
    public static async Task<IStateStore> OpenForReadingAsync(StateSettings settings, TimeProvider time, Func<string, string?> environment, CancellationToken cancellationToken) => settings switch
    {
        StateSettings.Sqlite sqlite => await SqliteRunStore.OpenForReadingAsync(sqlite.Path, time, cancellationToken),
        StateSettings.Postgres postgres => await PostgresRunStore.OpenAsync(postgres, time, environment, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(settings)),
    };

    /// <summary>Brings the state's schema up to date and says what was applied (<c>cascade migrate</c>).</summary>
    public static Task<MigrationResult> MigrateAsync(StateSettings settings, Func<string, string?> environment, CancellationToken cancellationToken) => settings switch
    {
        StateSettings.Sqlite sqlite => SqliteRunStore.MigrateAsync(sqlite.Path, cancellationToken),
        StateSettings.Postgres postgres => PostgresRunStore.MigrateAsync(postgres, environment, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(settings)),
    };

    /// <summary>Whether the state exists yet (a dry run over a state never created reads nothing).</summary>
    public static bool MayExist(StateSettings settings) => settings is not StateSettings.Sqlite sqlite || File.Exists(sqlite.Path);
}
