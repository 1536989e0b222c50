using System.Text;
using System.Text.Json;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Reports;
using Cascade.Engine.Requests;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>/api/runs</c>: the list (paged, newest partition first), one run's details, its logs (followed
/// while the attempt runs) and <c>trigger</c>.
/// </summary>
internal static class RunsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(200);

    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/", ListAsync);
        group.MapGet("/{job}/{partition}", DetailsAsync);
        group.MapGet("/{job}/{partition}/logs", LogsAsync);
        group.MapPost("/{job}/{partition}/trigger", TriggerAsync);
    }

    private static async Task ListAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var query = new RunQuery { NewestFirst = true };
        if (Query.String(context, "job") is { } job)
        {
            query = query with { Job = Targets.Job(api.Pipeline, job).Name };
        }

        if (Query.String(context, "partition") is { } partition)
        {
            query = query with { Partition = Query.Partition(partition, "partition").Key };
        }

        if (Query.String(context, "state") is { } state)
        {
            query = query with
            {
                State = RunStates.TryParse(state, out var s) ? s : throw ProblemException.BadRequest($"state '{state}' is not a state; states are {string.Join(", ", Enum.GetValues<RunState>().Select(v => v.Name()))}", "state"),
            };
        }

        if (Query.String(context, "from") is { } from)
        {
            query = query with { From = Query.Partition(from, "from").Key };
        }

        if (Query.String(context, "to") is { } to)
        {
            query = query with { To = Query.Partition(to, "to").Key };
        }

        if (query is { From: { } f, To: { } t } && string.CompareOrdinal(f, t) > 0 && !t.StartsWith(f, StringComparison.Ordinal))
        {
            throw ProblemException.BadRequest($"to {t} is before from {f}", "to");
        }

        var limit = Query.Int(context, "limit", 1, MaxLimit) ?? DefaultLimit;
        if (Query.String(context, "cursor") is { } cursor)
        {
            query = query with { After = Cursor.Parse(cursor) };
        }

        // One more than asked tells whether there is a next page.
        var runs = await api.Reader.QueryRunsAsync(query with { Limit = limit + 1 }, context.RequestAborted);
        var page = runs.Take(limit).ToList();
        var next = runs.Count > limit ? Cursor.Of(page[^1]) : null;
        await JsonReply.OkAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("runs");
            foreach (var run in page)
            {
                RunJson.Write(w, run, api.Pipeline.DeadlineOf(run.Key));
            }

            w.WriteEndArray();
            w.WriteString("next_cursor", next);
            w.WriteEndObject();
        });
    }

    private static async Task DetailsAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var key = Query.Key(context, api.Pipeline);
        var details = await RunDetails.ReadAsync(api.Pipeline, key, api.Reader, api.Options.Markers, context.RequestAborted);
        await JsonReply.OkAsync(context, w => RunDetailsJson.Write(w, details, api.Pipeline));
    }

    /// <summary>One attempt's output; while it runs (and a scheduler runs), streamed as it grows until the attempt ends.</summary>
    private static async Task LogsAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var key = Query.Key(context, api.Pipeline);
        var ct = context.RequestAborted;
        var generationAsked = Query.Int(context, "generation", 1, int.MaxValue);
        var attemptAsked = Query.Int(context, "attempt", 1, int.MaxValue);
        var generations = await api.Reader.QueryRunsAsync(new RunQuery { Job = key.Job, Partition = key.Partition.Key, AllGenerations = true }, ct);
        if (generations.Count == 0)
        {
            throw ProblemException.NotFound($"no run of {key.Job} {key.Partition.Key} yet");
        }

        var g = generationAsked ?? generations.Max(r => r.Generation);
        var run = generations.FirstOrDefault(r => r.Generation == g)
            ?? throw ProblemException.NotFound($"{key.Job} {key.Partition.Key} has generation(s) {string.Join(", ", generations.Select(r => r.Generation))}, not {g}", "generation");
        if (run.Attempt == 0)
        {
            throw ProblemException.NotFound(run.State == RunState.Succeeded
                ? $"{key.Job} {key.Partition.Key} generation {g} was done by its marker, not by a command: no output"
                : $"{key.Job} {key.Partition.Key} generation {g} has not started yet ({run.State.Name()}): no output");
        }

        var n = attemptAsked ?? run.Attempt;
        if (n > run.Attempt)
        {
            throw ProblemException.NotFound($"{key.Job} {key.Partition.Key} generation {g} has attempts 1..{run.Attempt}, not {n}", "attempt");
        }

        var path = LogFiles.Find(api.Options.LogDirectory, key, g, n);
        var record = await AttemptAsync(api.Reader, key, g, n, ct);
        var live = IsLive(run, n, record);
        if (!File.Exists(path) && !live)
        {
            throw ProblemException.NotFound($"attempt {n} of {key.Job} {key.Partition.Key} (generation {g}) never started, so it has no output{(run.Reason is { } reason ? ": " + reason : string.Empty)}");
        }

        var follow = live && api.SchedulerRuns;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Cascade-Generation"] = g.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["X-Cascade-Attempt"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["X-Cascade-Live"] = follow ? "true" : "false";
        context.Response.Headers.CacheControl = "no-store";
        long offset = 0;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            // The state first, then the file: output written before the end was recorded is all in the file.
            var now = await api.Reader.GetRunAsync(key, ct);
            record = await AttemptAsync(api.Reader, key, g, n, ct);
            if (File.Exists(path))
            {
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.Seek(offset, SeekOrigin.Begin);
                int read;
                while ((read = await file.ReadAsync(buffer, ct)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), ct);
                    offset += read;
                }
            }

            await context.Response.Body.FlushAsync(ct);
            if (!follow || now is null || now.Generation != g || !IsLive(now, n, record))
            {
                return;
            }

            await Task.Delay(FollowPoll, api.Time, ct);
        }
    }

    private static async Task TriggerAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var key = Query.Key(context, api.Pipeline);
        using var body = await JsonBody.ReadAsync(context, ["params"]);
        var prms = body.StringMap("params");
        await using var store = await api.OpenWriterAsync(context.RequestAborted);
        var id = await api.Desk.TriggerAsync(store, key, prms, context.RequestAborted);
        await Accepted.WriteAsync(context, api, id, w =>
        {
            w.WriteString("job", key.Job);
            w.WriteString("partition", key.Partition.Key);
        });
    }

    private static async Task<AttemptRecord?> AttemptAsync(IRunStore store, RunKey key, int generation, int attempt, CancellationToken ct) =>
        (await store.GetAttemptsAsync(key, ct)).LastOrDefault(a => a.Generation == generation && a.Attempt == attempt);

    private static bool IsLive(Run run, int n, AttemptRecord? record) =>
        run.State == RunState.Running && run.Attempt == n && record is not { FinishedAt: not null };

    /// <summary>A page's cursor: the last run of the page (partition and job), opaque to clients.</summary>
    private static class Cursor
    {
        public static string Of(Run run) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{run.Key.Partition.Key}.{run.Key.Job}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static (string Partition, string Job) Parse(string text)
        {
            try
            {
                var padded = text.Replace('-', '+').Replace('_', '/');
                padded += new string('=', (4 - (padded.Length % 4)) % 4);
                var raw = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
                var dot = raw.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0 && Partition.TryParse(raw[..dot], out _) && dot < raw.Length - 1)
                {
                    return (raw[..dot], raw[(dot + 1)..]);
                }
            }
            catch (FormatException)
            {
                // refused below
            }

            throw ProblemException.BadRequest($"cursor '{text}' is not a cursor this API gave (use next_cursor of the previous page)", "cursor");
        }
    }
}
