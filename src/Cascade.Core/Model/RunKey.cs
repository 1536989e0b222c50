namespace Cascade.Core.Model;

/// <summary>
/// Identity of a run: one job for one partition. A marker name parses into it, and it doubles as
/// the idempotency key of activation (one activation per key and generation).
/// </summary>
public readonly record struct RunKey(string Job, Partition Partition) : IComparable<RunKey>
{
    public int CompareTo(RunKey other)
    {
        var c = Partition.CompareTo(other.Partition);
        return c != 0 ? c : string.CompareOrdinal(Job, other.Job);
    }

    public static bool operator <(RunKey a, RunKey b) => a.CompareTo(b) < 0;
    public static bool operator >(RunKey a, RunKey b) => a.CompareTo(b) > 0;
    public static bool operator <=(RunKey a, RunKey b) => a.CompareTo(b) <= 0;
    public static bool operator >=(RunKey a, RunKey b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Job} {Partition.Key}";
}
