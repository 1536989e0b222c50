using Cascade.Core.Markers;

namespace Cascade.Core.Pipelines;

/// <summary>A pipeline as written, before validation: jobs in file order plus store settings.</summary>
public sealed record PipelineDefinition
{
    public required string SourcePath { get; init; }
    public IReadOnlyList<JobDefinition> Jobs { get; init; } = [];
    public MarkerLayout Layout { get; init; } = MarkerLayout.Default;

    /// <summary>The marker store: a folder (the default, <c>./markers</c>) or an S3-compatible bucket.</summary>
    public MarkerSettings Markers { get; init; } = new MarkerSettings.Folder("./markers");

    /// <summary>Push notifications (<c>events:</c>); none by default.</summary>
    public EventSettings Events { get; init; } = EventSettings.None;

    /// <summary>Marker folder as written (relative to the pipeline file's folder); the default folder when the markers live in a bucket.</summary>
    public string MarkerFolder => Markers is MarkerSettings.Folder folder ? folder.Path : "./markers";

    /// <summary>Where the state lives (<c>state: sqlite:PATH</c> or <c>state: postgres:CONNECTION</c>), as parsed.</summary>
    public StateSettings State { get; init; } = StateSettings.Default;

    public string TimeZone { get; init; } = "UTC";

    /// <summary>The resolved time zone partitions, schedules and deadlines are reckoned in.</summary>
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Where alerts go, as written (with <c>${ENV}</c> still unexpanded).</summary>
    public IReadOnlyList<AlertTarget> Alerts { get; init; } = [];

    /// <summary>How often the marker store is rescanned as a safety net for missed notifications.</summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromSeconds(30);
}
