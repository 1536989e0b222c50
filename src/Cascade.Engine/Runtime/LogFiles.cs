using System.Globalization;
using Cascade.Core.Model;

namespace Cascade.Engine.Runtime;

/// <summary>
/// The layout of attempts' log files, shared by the scheduler and its readers (<c>cascade logs</c>,
/// <c>history</c>, the API): <c>{logs}/{partition}/{job}.g{generation}-a{attempt}.log</c>, one folder
/// per partition (ADR 18). A day's logs sit together and go together (<c>rm -r logs/201903*</c>),
/// and a day's runs share one folder, so an attempt's start makes no new folder but the day's first.
/// </summary>
public static class LogFiles
{
    public static string PathOf(string logDirectory, RunKey key, int generation, int attempt) =>
        Path.Combine(logDirectory, key.Partition.Key, string.Create(CultureInfo.InvariantCulture, $"{key.Job}.g{generation}-a{attempt}.log"));

    /// <summary>
    /// Where a reader finds an attempt's log: <see cref="PathOf"/>, or, for an attempt run before
    /// the layout changed, <c>{logs}/{job}/{partition}/g{generation}-a{attempt}.log</c> when only that
    /// exists. A log that exists in neither place is looked for at <see cref="PathOf"/>.
    /// </summary>
    public static string Find(string logDirectory, RunKey key, int generation, int attempt)
    {
        var path = PathOf(logDirectory, key, generation, attempt);
        if (File.Exists(path))
        {
            return path;
        }

        var before = Path.Combine(logDirectory, key.Job, key.Partition.Key, string.Create(CultureInfo.InvariantCulture, $"g{generation}-a{attempt}.log"));
        return File.Exists(before) ? before : path;
    }
}
