using System.Globalization;

namespace Cascade.Bench.Crash;

/// <summary>
/// What the campaign's jobs recorded (<c>activity.log</c>: one line at the start and one at the end
/// of every attempt, with its wall-clock time) and what it concludes, with the kill times.
/// </summary>
internal sealed class Activity
{
    /// <summary>
    /// A job logs its start once bash runs its first line, a few milliseconds after the process was
    /// started: a kill in that gap hit the attempt although it comes before the logged start.
    /// </summary>
    public const double StartSlack = 0.25;

    private readonly Dictionary<string, List<Attempt>> _byRun = new(StringComparer.Ordinal);

    public sealed record Attempt(int Pid, double Start)
    {
        public double? End { get; set; }
    }

    public IReadOnlyDictionary<string, List<Attempt>> ByRun => _byRun;

    public static Activity Read(string path)
    {
        var activity = new Activity();
        if (!File.Exists(path))
        {
            return activity;
        }

        var open = new Dictionary<int, Attempt>();
        foreach (var line in File.ReadLines(path))
        {
            // start|end JOB PARTITION ATTEMPT PID EPOCH
            var f = line.Split(' ');
            if (f.Length != 6 || !int.TryParse(f[4], CultureInfo.InvariantCulture, out var pid) || !double.TryParse(f[5], CultureInfo.InvariantCulture, out var at))
            {
                continue;
            }

            var run = $"{f[1]}__{f[2]}";
            if (f[0] == "start")
            {
                var attempt = new Attempt(pid, at);
                open[pid] = attempt;
                if (!activity._byRun.TryGetValue(run, out var list))
                {
                    activity._byRun[run] = list = [];
                }

                list.Add(attempt);
            }
            else if (f[0] == "end" && open.Remove(pid, out var started))
            {
                started.End = at;
            }
        }

        foreach (var list in activity._byRun.Values)
        {
            list.Sort((a, b) => a.Start.CompareTo(b.Start));
        }

        return activity;
    }

    /// <summary>Pairs of attempts of one run whose recorded lives overlap (both ended: a killed attempt has no end line).</summary>
    public int OverlappingPairs() =>
        _byRun.Values.Sum(list => list.Zip(list.Skip(1)).Count(p => p.First.End is { } end && end > p.Second.Start));

    /// <summary>
    /// Re-activations with no kill between the previous attempt's start and this one's: a kill
    /// while a run is in flight may cost it one more activation, nothing else may.
    /// </summary>
    public int UnjustifiedReactivations(IReadOnlyList<double> kills) =>
        _byRun.Values.Sum(list => list.Zip(list.Skip(1)).Count(p => !kills.Any(k => k > p.First.Start - StartSlack && k < p.Second.Start)));

    /// <summary>How many kills found this attempt running (started, not yet ended).</summary>
    public static int KillsDuring(Attempt a, IReadOnlyList<double> kills) =>
        kills.Count(k => k > a.Start && (a.End is not { } end || k < end));
}
