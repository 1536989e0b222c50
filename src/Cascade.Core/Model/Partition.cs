using System.Globalization;

namespace Cascade.Core.Model;

/// <summary>
/// The period a run computes: a day (<c>20190312</c>) or an hour (<c>2019031205</c>) in the
/// pipeline's time zone. A value type: equal partitions are the same period of the same grain.
/// </summary>
public readonly record struct Partition : IComparable<Partition>
{
    private Partition(Grain grain, DateTime start)
    {
        Grain = grain;
        Start = start;
    }

    public Grain Grain { get; }

    /// <summary>Start of the period (wall-clock time in the pipeline's zone, <see cref="DateTimeKind.Unspecified"/>).</summary>
    public DateTime Start { get; }

    public static Partition Day(DateOnly date) => new(Grain.Daily, date.ToDateTime(TimeOnly.MinValue));

    public static Partition Hour(DateOnly date, int hour)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hour);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hour, 23);
        return new(Grain.Hourly, date.ToDateTime(new TimeOnly(hour, 0)));
    }

    public DateOnly Date => DateOnly.FromDateTime(Start);

    public int HourOfDay => Start.Hour;

    /// <summary>The canonical name: <c>YYYYMMDD</c> or <c>YYYYMMDDHH</c>.</summary>
    public string Key => Grain == Grain.Daily
        ? Start.ToString("yyyyMMdd", CultureInfo.InvariantCulture)
        : Start.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The partition <paramref name="units"/> days (daily) or hours (hourly) away.</summary>
    public Partition Add(int units) =>
        new(Grain, Grain == Grain.Daily ? Start.AddDays(units) : Start.AddHours(units));

    /// <summary>The day this partition belongs to.</summary>
    public Partition ToDay() => Day(Date);

    /// <summary>The 24 hours of this day, in order.</summary>
    public IEnumerable<Partition> Hours()
    {
        var date = Date;
        for (var h = 0; h < 24; h++)
        {
            yield return Hour(date, h);
        }
    }

    public int CompareTo(Partition other)
    {
        var c = Start.CompareTo(other.Start);
        return c != 0 ? c : Grain.CompareTo(other.Grain);
    }

    public static bool operator <(Partition a, Partition b) => a.CompareTo(b) < 0;
    public static bool operator >(Partition a, Partition b) => a.CompareTo(b) > 0;
    public static bool operator <=(Partition a, Partition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Partition a, Partition b) => a.CompareTo(b) >= 0;

    public override string ToString() => Key;

    /// <summary>
    /// Parses the accepted spellings: <c>20190312</c>, <c>2019-03-12</c>, <c>2019031205</c>,
    /// <c>2019-03-12T05</c>. The grain follows from the spelling.
    /// </summary>
    public static bool TryParse(string? text, out Partition partition)
    {
        partition = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        string[] daily = ["yyyyMMdd", "yyyy-MM-dd"];
        string[] hourly = ["yyyyMMddHH", "yyyy-MM-dd'T'HH", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH"];
        if (DateTime.TryParseExact(s, daily, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            partition = Day(DateOnly.FromDateTime(d));
            return true;
        }

        if (DateTime.TryParseExact(s, hourly, CultureInfo.InvariantCulture, DateTimeStyles.None, out var h) && h.Minute == 0)
        {
            partition = Hour(DateOnly.FromDateTime(h), h.Hour);
            return true;
        }

        return false;
    }

    /// <summary>The canonical spellings only (<c>YYYYMMDD</c>, <c>YYYYMMDDHH</c>), without allocating: marker names.</summary>
    public static bool TryParse(ReadOnlySpan<char> digits, out Partition partition)
    {
        partition = default;
        if (digits.Length is not (8 or 10))
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        var year = int.Parse(digits[..4], CultureInfo.InvariantCulture);
        var month = int.Parse(digits[4..6], CultureInfo.InvariantCulture);
        var day = int.Parse(digits[6..8], CultureInfo.InvariantCulture);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        var date = new DateOnly(year, month, day);
        if (digits.Length == 8)
        {
            partition = Day(date);
            return true;
        }

        var hour = int.Parse(digits[8..10], CultureInfo.InvariantCulture);
        if (hour > 23)
        {
            return false;
        }

        partition = Hour(date, hour);
        return true;
    }

    /// <summary>Parses a partition and requires the given grain (a day of an hourly job is an error).</summary>
    public static bool TryParse(string? text, Grain grain, out Partition partition) =>
        TryParse(text, out partition) && partition.Grain == grain;

    public static Partition Parse(string text) =>
        TryParse(text, out var p)
            ? p
            : throw new FormatException($"'{text}' is not a partition: use YYYYMMDD, YYYY-MM-DD, YYYYMMDDHH or YYYY-MM-DDTHH");
}
