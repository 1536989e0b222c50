using Cascade.Core.Markers;
using Cascade.Core.Model;

namespace Cascade.Core.Scheduling;

/// <summary>A marker as seen in the store: its run, its body, and when it was written (if known).</summary>
public readonly record struct ObservedMarker(RunKey Key, MarkerBody Body, DateTimeOffset? WrittenAt = null);
