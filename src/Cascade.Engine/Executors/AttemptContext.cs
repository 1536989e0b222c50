namespace Cascade.Engine.Executors;

/// <summary>Where an attempt writes its marker and its output.</summary>
public sealed record AttemptContext(string MarkerLocation, string LogPath)
{
    /// <summary>Called once the attempt is under way (its process started), if set.</summary>
    public Action? Started { get; init; }
}
