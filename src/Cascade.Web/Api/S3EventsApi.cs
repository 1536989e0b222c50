using System.Text;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Reports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Cascade.Web.Api;

/// <summary>
/// <c>POST /api/events/s3</c> (ADR 19): an S3 event notification as S3 sends it, inside an SNS
/// message (an HTTP(S) subscription), or as EventBridge's "Object Created" event. The bearer token is
/// not asked of every POST here, because SNS cannot send one: a signed SNS message is authenticated
/// by its signature and its topic (<c>events.sns</c>); anything unsigned needs the token when one is
/// set, and <c>application/json</c> (as every other POST) when none is. Answers 202 once what it
/// queued is committed to the request inbox (a notice per notification, read by the scheduler as
/// hints), 200 for a confirmed SNS subscription; a refusal changes nothing and is logged.
/// </summary>
internal static class S3EventsApi
{
    public const string Path = "/api/events/s3";

    /// <summary>The largest body taken: an SNS message of 256 KiB, JSON-escaped inside its envelope.</summary>
    public const int MaxBytes = S3EventParser.MaxChars;

    public static void Map(WebApplication app) => app.MapPost(Path, AcceptAsync);

    private static async Task AcceptAsync(HttpContext context)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        var request = context.Request;
        var json = request.HasJsonContentType();
        var text = request.ContentType is { } type && type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase);
        if (request.ContentType is { } given && !json && !text)
        {
            throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, $"the body is '{given}'; send application/json (SNS's text/plain is taken too)");
        }

        var body = await ReadAsync(context);
        var token = api.Options.Token;
        var authenticated = token is null ? json : token.Matches(request.Headers.Authorization.ToString());
        var result = await api.Intake.AcceptAsync(body, NotificationChannel.Http, authenticated, context.RequestAborted);
        if (result.Refused)
        {
            throw Refusal(result, token is null, json);
        }

        if (result.Confirmed is { } topic)
        {
            await JsonReply.OkAsync(context, w =>
            {
                w.WriteStartObject();
                w.WriteString("confirmed", topic);
                w.WriteEndObject();
            });
            return;
        }

        if (result.Request is { } id)
        {
            context.Response.Headers.Location = CancelPlanJson.RequestUrl(id);
        }

        await JsonReply.WriteAsync(context, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            if (result.Request is { } queued)
            {
                CancelPlanJson.WriteRequestMembers(w, queued, api.SchedulerRuns);
            }
            else
            {
                w.WriteNull("request");
                w.WriteNull("url");
                w.WriteBoolean("scheduler_running", api.SchedulerRuns);
            }

            w.WriteNumber("queued", result.Queued);
            w.WriteNumber("duplicates", result.Duplicates);
            w.WriteNumber("ignored", result.Ignored);
            w.WriteStartArray("reasons");
            foreach (var reason in result.Reasons)
            {
                w.WriteStringValue(reason);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static ProblemException Refusal(IntakeResult result, bool noToken, bool json) => result.RefusalKind switch
    {
        IntakeRefusal.Unauthenticated when noToken && !json => new(StatusCodes.Status415UnsupportedMediaType, "an unsigned notification must be sent as application/json (only a signed SNS message may be text/plain)"),
        IntakeRefusal.Unauthenticated => new(StatusCodes.Status401Unauthorized, result.Refusal!),
        IntakeRefusal.Forbidden => new(StatusCodes.Status403Forbidden, result.Refusal!),
        IntakeRefusal.NotConfigured => new(StatusCodes.Status404NotFound, result.Refusal!),
        _ => ProblemException.BadRequest(result.Refusal!),
    };

    /// <summary>The body as text, at most <see cref="MaxBytes"/> (this endpoint's own limit: SNS messages are up to 256 KiB).</summary>
    private static async Task<string> ReadAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBytes + 1;
        }

        if (context.Request.ContentLength > MaxBytes)
        {
            throw new ProblemException(StatusCodes.Status413PayloadTooLarge, $"the body is {context.Request.ContentLength} bytes; at most {MaxBytes / 1024} KiB are accepted here");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > MaxBytes)
                {
                    break;
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            buffer.SetLength(MaxBytes + 1);
        }

        if (buffer.Length > MaxBytes)
        {
            throw new ProblemException(StatusCodes.Status413PayloadTooLarge, $"the body is over {MaxBytes / 1024} KiB, the most accepted here");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw ProblemException.BadRequest("the body is not UTF-8 text");
        }
    }
}
