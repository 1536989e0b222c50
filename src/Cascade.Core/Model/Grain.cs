namespace Cascade.Core.Model;

/// <summary>The size of a job's partitions.</summary>
public enum Grain
{
    /// <summary>One run per calendar day: partition <c>YYYYMMDD</c>.</summary>
    Daily,

    /// <summary>One run per hour: partition <c>YYYYMMDDHH</c>.</summary>
    Hourly,
}
