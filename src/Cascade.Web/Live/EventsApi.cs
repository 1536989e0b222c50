using System.Globalization;
using System.Text;
using System.Text.Json;
using Cascade.Engine.Reports;
using Cascade.Engine.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cascade.Web.Live;

/// <summary>
/// <c>GET /api/events</c>: Server-Sent Events of run changes (<c>event: run</c>). Each event is one
/// committed change of a run (a history line, or a run first seen done by its marker), its id the
/// change number, which grows with every commit (ADR 14): a client that reconnects with
/// <c>Last-Event-ID</c> (or <c>?after=</c>) gets every change after it, from the database, so none
/// is lost whether the stream dropped, the server restarted or the change was made by another
/// process. A new client without an id starts at the latest change.
/// </summary>
internal static class EventsApi
{
    public const int Batch = 500;
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void Map(RouteGroupBuilder group) => group.MapGet("/", StreamAsync);

    private static async Task StreamAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var after = StartAfter(context);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = linked.Token;
        after ??= await api.Reader.LastChangeIdAsync(ct);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var body = context.Response.Body;
        await body.WriteAsync(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"retry: 1000\n: changes after {after}\n\n")), ct);
        await body.FlushAsync(ct);
        var last = after.Value;
        var quietSince = api.Time.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Take the wake before reading: a change committed after the read wakes the wait.
                var wake = api.Changes.Next;
                var changes = await api.Reader.ChangesAfterAsync(last, Batch, ct);
                if (changes.Count > 0)
                {
                    using var buffer = new MemoryStream();
                    foreach (var change in changes)
                    {
                        Write(buffer, change);
                        last = change.Id;
                    }

                    await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
                    await body.FlushAsync(ct);
                    quietSince = api.Time.GetTimestamp();
                    if (changes.Count == Batch)
                    {
                        continue;
                    }
                }
                else if (api.Time.GetElapsedTime(quietSince) >= KeepAlive)
                {
                    await body.WriteAsync(": keep-alive\n\n"u8.ToArray(), ct);
                    await body.FlushAsync(ct);
                    quietSince = api.Time.GetTimestamp();
                }

                await Task.WhenAny(wake, Task.Delay(api.Options.ChangePoll, api.Time, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the client left or the server stops: the client resumes with Last-Event-ID
        }
    }

    /// <summary>The id to resume after: <c>Last-Event-ID</c> (set by EventSource on reconnect), else <c>?after=</c>.</summary>
    private static long? StartAfter(HttpContext context)
    {
        var (text, name) = context.Request.Headers["Last-Event-ID"] is [{ Length: > 0 } header]
            ? (header, "Last-Event-ID")
            : (Api.Query.String(context, "after"), "after");
        if (text is null)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw ProblemException.BadRequest($"{name} '{text}' is not an event id (a whole number this stream gave)", name);
    }

    private static void Write(MemoryStream buffer, RunChange change)
    {
        buffer.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id: {change.Id}\nevent: run\ndata: ")));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("id", change.Id);
            w.WriteString("job", change.Job);
            w.WriteString("partition", change.Partition);
            w.WriteNumber("generation", change.Generation);
            w.WriteNumber("attempt", change.Attempt);
            w.WriteString("state", change.State);
            w.WriteString("event", change.Event);
            w.WriteString("detail", change.Detail);
            RunJson.Time(w, "at", change.At);
            RunJson.Time(w, "activated_at", change.ActivatedAt);
            RunJson.Time(w, "finished_at", change.FinishedAt);
            w.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
    }
}
