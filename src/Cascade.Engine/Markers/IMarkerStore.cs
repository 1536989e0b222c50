using Cascade.Core.Markers;
using Cascade.Core.Model;

namespace Cascade.Engine.Markers;

/// <summary>
/// Where done markers live. Markers are the source of truth for "done": the store is rescanned on
/// start and periodically, and watched for new markers in between.
/// </summary>
public interface IMarkerStore
{
    MarkerLayout Layout { get; }

    /// <summary>Where the marker of <paramref name="key"/> lives, for people and for <c>CASCADE_MARKER</c>.</summary>
    string Locate(RunKey key);

    /// <summary>Writes a marker atomically: readers see no marker or the whole body, never a part.</summary>
    ValueTask WriteAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a marker the scheduler has already applied (an attempt exited 0 without one): a store
    /// may skip its own notice of it.
    /// </summary>
    ValueTask WriteKnownAsync(RunKey key, MarkerBody body, CancellationToken cancellationToken) => WriteAsync(key, body, cancellationToken);

    /// <summary>The marker's body, or null when there is no marker.</summary>
    ValueTask<MarkerBody?> ReadAsync(RunKey key, CancellationToken cancellationToken);

    /// <summary>The marker's body and when it was written, or null when there is no marker.</summary>
    ValueTask<StoredMarker?> ReadStoredAsync(RunKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a replayed run's marker aside (kept for the record under a <c>.superseded</c> area,
    /// never deleted); returns false when there was no marker.
    /// </summary>
    ValueTask<bool> SupersedeAsync(RunKey key, int generation, CancellationToken cancellationToken);

    /// <summary>Every object in the store that looks like a marker (any name ending in <c>.done</c>), streamed.</summary>
    IAsyncEnumerable<MarkerEntry> ScanAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The periodic look for markers whose notices were lost, after the full <see cref="ScanAsync"/>
    /// of the start-up. A store across a network may list only what can still be new (a bucket lists
    /// the recent partitions, and everything again every few calls: ADR 16); by default, a full scan.
    /// </summary>
    IAsyncEnumerable<MarkerEntry> RescanAsync(CancellationToken cancellationToken) => ScanAsync(cancellationToken);

    /// <summary>Relative paths of markers as they appear, until cancelled. A missed notice is caught by the next scan.</summary>
    IAsyncEnumerable<MarkerEntry> WatchAsync(CancellationToken cancellationToken);
}
