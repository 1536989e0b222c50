using System.Globalization;
using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;

namespace Cascade.Engine.Reports;

/// <summary>
/// The JSON of one run's details: what <c>GET /api/runs/{job}/{partition}</c> answers and
/// <c>why --json</c> and <c>history --json</c> print; and of one attempt (an element of its
/// <c>attempts</c>), which <c>logs --json</c> prints.
/// </summary>
public static class RunDetailsJson
{
    public static void Write(Utf8JsonWriter w, RunDetails details, Pipeline pipeline)
    {
        var key = details.Key;
        w.WriteStartObject();
        w.WriteString("job", key.Job);
        w.WriteString("partition", key.Partition.Key);
        w.WritePropertyName("run");
        if (details.Run is { } run)
        {
            RunJson.Write(w, run, pipeline.DeadlineOf(key));
        }
        else
        {
            w.WriteNullValue();
        }

        w.WritePropertyName("remote");
        if (pipeline.TryGetJob(key.Job, out var job) && RemoteActivation.Of(details.Run, job, details.History) is { } remote)
        {
            w.WriteStartObject();
            RunJson.Time(w, "activation_sent_at", remote.SentAt);
            w.WriteString("on_restart", Name(remote.OnRestart));
            w.WriteStartArray("restarts");
            foreach (var restart in remote.Restarts)
            {
                w.WriteStartObject();
                RunJson.Time(w, "at", restart.At);
                w.WriteString("action", Name(restart.Action));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            RunJson.Time(w, "run_timeout_at", remote.RunTimeoutAt);
            w.WriteString("why", remote.Why);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNullValue();
        }

        w.WriteStartArray("inputs");
        foreach (var input in details.Inputs)
        {
            w.WriteStartObject();
            w.WriteString("job", input.Input.Key.Job);
            w.WriteString("partition", input.Input.Key.Partition.Key);
            w.WriteNumber("offset", input.Input.Dependency.Offset);
            w.WriteBoolean("met", input.Met);
            w.WriteString("why", input.Why);
            RunJson.Time(w, "done_at", input.At);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("attempts");
        foreach (var a in details.Attempts)
        {
            WriteAttempt(w, key, a.Generation, a.Attempt, a);
        }

        w.WriteEndArray();
        w.WriteStartArray("generations");
        foreach (var g in details.Generations)
        {
            RunJson.Write(w, g);
        }

        w.WriteEndArray();
        w.WriteStartArray("history");
        foreach (var e in details.History)
        {
            w.WriteStartObject();
            RunJson.Time(w, "at", e.At);
            w.WriteNumber("generation", e.Generation);
            w.WriteNumber("attempt", e.Attempt);
            w.WriteString("state", e.State);
            w.WriteString("event", e.Event);
            w.WriteString("detail", e.Detail);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("logs", Self(key) + "/logs");
        w.WriteEndObject();
    }

    /// <summary>One attempt; <paramref name="record"/> is null for one decided but not started yet.</summary>
    public static void WriteAttempt(Utf8JsonWriter w, RunKey key, int generation, int attempt, State.AttemptRecord? record)
    {
        w.WriteStartObject();
        w.WriteNumber("generation", generation);
        w.WriteNumber("attempt", attempt);
        RunJson.Time(w, "started_at", record?.StartedAt);
        RunJson.Time(w, "finished_at", record?.FinishedAt);
        if (record?.ExitCode is { } code)
        {
            w.WriteNumber("exit_code", code);
        }
        else
        {
            w.WriteNull("exit_code");
        }

        w.WriteString("outcome", record?.Outcome ?? (record?.FinishedAt is null ? "running" : null));
        w.WriteString("logs", string.Create(CultureInfo.InvariantCulture, $"{Self(key)}/logs?generation={generation}&attempt={attempt}"));
        w.WriteEndObject();
    }

    private static string Name(RemoteRestart action) => action == RemoteRestart.Resend ? "resend" : "wait";

    /// <summary>The run's path in the HTTP API.</summary>
    public static string Self(RunKey key) => $"/api/runs/{Uri.EscapeDataString(key.Job)}/{key.Partition.Key}";
}
