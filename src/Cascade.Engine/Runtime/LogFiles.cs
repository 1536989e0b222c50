using System.Globalization;
using Cascade.Core.Model;

namespace Cascade.Engine.Runtime;

/// <summary>The layout of attempts' log files, shared by the scheduler and <c>cascade logs</c>.</summary>
public static class LogFiles
{
    public static string PathOf(string logDirectory, RunKey key, int generation, int attempt) =>
        Path.Combine(logDirectory, key.Job, key.Partition.Key, string.Create(CultureInfo.InvariantCulture, $"g{generation}-a{attempt}.log"));
}
