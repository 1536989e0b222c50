namespace Cascade.Engine.Executors;

/// <summary>Where an attempt writes its marker and its output.</summary>
public sealed record AttemptContext(string MarkerLocation, string LogPath);
