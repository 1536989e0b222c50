using System.Globalization;

namespace Cascade.Core.Model;

/// <summary>
/// The period a run computes: a day (<c>20190312</c>) or an hour (<c>2019031205</c>) in the
/// pipeline's time zone. A value type: equal partitions are the same period of the same grain.
/// </summary>
/// <remarks>
/// Supported partitions are the days and hours of the years 1900 to 2999
/// (<see cref="MinDate"/>..<see cref="MaxDate"/>); every entry (CLI arguments, marker names,
/// <c>start</c> dates, requests) rejects others with <see cref="RangeError"/>. With offsets bounded
/// by <see cref="MaxOffset"/>, arithmetic on a supported partition can never leave
/// <see cref="DateTime"/>'s range; a partition computed outside the supported range (an input
/// before 1900) is a key no run is ever created for.
/// </remarks>
public readonly record struct Partition : IComparable<Partition>
{
    /// <summary>The first supported day.</summary>
    public static readonly DateOnly MinDate = new(1900, 1, 1);

    /// <summary>The last supported day.</summary>
    public static readonly DateOnly MaxDate = new(2999, 12, 31);

    /// <summary>
    /// The largest offset (in partitions, either way) a pipeline may use: 100,000 days is 274
    /// years, so a supported partition moved by any allowed offset stays within years 1626..3274.
    /// </summary>
    public const int MaxOffset = 100_000;

    /// <summary>The supported range, as error messages state it.</summary>
    public const string SupportedRange = "1900-01-01..2999-12-31";

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

    /// <summary>Whether this partition is in the supported range (years 1900..2999).</summary>
    public bool IsSupported => IsSupportedDate(Date);

    public static bool IsSupportedDate(DateOnly date) => date >= MinDate && date <= MaxDate;

    /// <summary>The message for a partition or date outside the supported range.</summary>
    public static string RangeError(string what) => $"{what} is outside the supported range of partitions ({SupportedRange}: the years 1900 to 2999)";

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
    public static bool TryParse(string? text, out Partition partition) => TryParse(text, out partition, out _);

    /// <summary>As <see cref="TryParse(string?, out Partition)"/>, with the reason when it fails (not a partition, or outside the supported range).</summary>
    public static bool TryParse(string? text, out Partition partition, out string error)
    {
        if (!TryParseAnyDate(text, out partition))
        {
            error = $"'{text}' is not a partition: use YYYYMMDD or YYYY-MM-DD (daily, e.g. 20190312), YYYYMMDDHH or YYYY-MM-DDTHH (hourly, e.g. 2019031205)";
            return false;
        }

        if (!partition.IsSupported)
        {
            error = RangeError($"partition {text!.Trim()}");
            partition = default;
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool TryParseAnyDate(string? text, out Partition partition)
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
        if (!IsSupportedDate(date))
        {
            return false;
        }

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
        TryParse(text, out var p, out var error) ? p : throw new FormatException(error);
}
