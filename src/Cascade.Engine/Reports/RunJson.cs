using System.Text.Json;
using Cascade.Core.Scheduling;

namespace Cascade.Engine.Reports;

/// <summary>
/// The stable JSON shape of a run (snake_case, ISO 8601 UTC times, null when not reached): what
/// <c>status --json</c> prints and what the HTTP API answers, written by this one type for both.
/// </summary>
public static class RunJson
{
    public static void Write(Utf8JsonWriter w, Run run, DateTimeOffset? deadline = null)
    {
        w.WriteStartObject();
        w.WriteString("job", run.Key.Job);
        w.WriteString("partition", run.Key.Partition.Key);
        w.WriteString("state", run.State.Name());
        w.WriteNumber("attempt", run.Attempt);
        w.WriteNumber("generation", run.Generation);
        Time(w, "created_at", run.CreatedAt);
        Time(w, "activated_at", run.ActivatedAt);
        Time(w, "finished_at", run.FinishedAt);
        Time(w, "next_retry_at", run.NextRetryAt);
        Time(w, "wait_deadline", run.WaitDeadline);
        Time(w, "deadline", deadline);
        if (run.ExitCode is { } code)
        {
            w.WriteNumber("exit_code", code);
        }
        else
        {
            w.WriteNull("exit_code");
        }

        w.WriteString("reason", run.Reason);
        w.WriteString("cause", run.Cause);
        w.WriteStartObject("meta");
        foreach (var (k, v) in run.Marker?.Meta ?? new Dictionary<string, JsonElement>())
        {
            w.WritePropertyName(k);
            v.WriteTo(w);
        }

        w.WriteEndObject();
        w.WriteStartObject("params");
        foreach (var (k, v) in run.Params)
        {
            w.WriteString(k, v);
        }

        w.WriteEndObject();
        w.WriteStartArray("warnings");
        foreach (var warning in run.Warnings)
        {
            w.WriteStringValue(warning);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A time as every JSON of Cascade writes it: UTC, milliseconds, <c>Z</c>; null when not reached.</summary>
    public static void Time(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } t)
        {
            w.WriteString(name, t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
