namespace Cascade.Engine.Runtime;

/// <summary>
/// Markers whose body does not parse <i>yet</i>: a producer writing a marker in place (not by
/// rename) may be read half-written. Such a body is read again every <see cref="RecheckEvery"/>
/// until it parses; it is judged invalid (a warning on the run, the marker still counts as done)
/// only once it has not changed for <see cref="QuietPeriod"/>, or at the latest
/// <see cref="Bound"/> after it was first read. Owned by the loop; a re-check is a message in the
/// loop's inbox, so the loop never waits for a producer.
/// </summary>
internal sealed class SettlingMarkers
{
    /// <summary>How often a body that does not parse is read again.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>A body unchanged this long is complete: if it does not parse now, it never will.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(1);

    /// <summary>However often it changes, a body is judged at the latest this long after it was first read.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Settling> _paths = new(StringComparer.Ordinal);

    /// <summary>Markers waiting to be read again (the scheduler is not idle while there are any).</summary>
    public int Count => _paths.Count;

    /// <summary>
    /// A body at <c>path</c> did not parse. Returns true when it must be read again later (the
    /// caller then posts a re-check after <see cref="RecheckEvery"/> unless <c>recheckPending</c>);
    /// false when it is to be judged now. <c>writtenAt</c> is the body's last write time: a change
    /// shows as a new time, and a body last written at least a quiet period ago is judged at once
    /// (a cold start's old bad markers).
    /// </summary>
    public bool ShouldRecheck(string path, DateTimeOffset writtenAt, DateTimeOffset now, out bool recheckPending)
    {
        if (!_paths.TryGetValue(path, out var s))
        {
            recheckPending = false;
            if (now - writtenAt >= QuietPeriod)
            {
                return false;
            }

            _paths[path] = new Settling(now, now, writtenAt, RecheckPending: true);
            return true;
        }

        recheckPending = s.RecheckPending;
        var lastChange = writtenAt != s.WrittenAt ? now : s.LastChange;
        if (now - lastChange >= QuietPeriod || now - s.FirstRead >= Bound)
        {
            _paths.Remove(path);
            return false;
        }

        _paths[path] = s with { LastChange = lastChange, WrittenAt = writtenAt, RecheckPending = true };
        return true;
    }

    /// <summary>The re-check of <paramref name="path"/> is being handled (a new one may be posted).</summary>
    public void RecheckArrived(string path)
    {
        if (_paths.TryGetValue(path, out var s))
        {
            _paths[path] = s with { RecheckPending = false };
        }
    }

    /// <summary>The body parsed, or the marker is gone or done: nothing more to wait for.</summary>
    public void Forget(string path) => _paths.Remove(path);

    private readonly record struct Settling(DateTimeOffset FirstRead, DateTimeOffset LastChange, DateTimeOffset WrittenAt, bool RecheckPending);
}
