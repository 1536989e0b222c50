using Cascade.Core.Markers;

namespace Cascade.Engine.Markers;

/// <summary>A marker read from the store, with the time it was last written.</summary>
public sealed record StoredMarker(MarkerBody Body, DateTimeOffset WrittenAt);
