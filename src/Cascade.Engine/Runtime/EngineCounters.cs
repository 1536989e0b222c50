namespace Cascade.Engine.Runtime;

/// <summary>Counts of what the engine saw and ignored, for logs and metrics.</summary>
public sealed class EngineCounters
{
    private long _markersObserved;
    private long _markersIgnored;
    private long _attemptsStarted;
    private long _commits;

    public long MarkersObserved => Interlocked.Read(ref _markersObserved);
    public long MarkersIgnored => Interlocked.Read(ref _markersIgnored);
    public long AttemptsStarted => Interlocked.Read(ref _attemptsStarted);
    public long Commits => Interlocked.Read(ref _commits);

    internal void MarkerObserved() => Interlocked.Increment(ref _markersObserved);
    internal void MarkerIgnored() => Interlocked.Increment(ref _markersIgnored);
    internal void AttemptStarted() => Interlocked.Increment(ref _attemptsStarted);
    internal void Committed() => Interlocked.Increment(ref _commits);
}
