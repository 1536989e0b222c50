using Cascade.Engine.State;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Cascade.Web;

/// <summary>
/// The one middleware every request passes: CORS (only for configured origins), the token on every
/// POST, and errors as problem documents — an <see cref="ProblemException"/> with its status, a state that
/// cannot be used as 503, anything else as 500 without details (no stack trace reaches a client).
/// </summary>
internal static class Guard
{
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var api = context.RequestServices.GetRequiredService<ApiContext>();
        if (Cors(context, api.Options))
        {
            return;
        }

        // POST /api/events/s3 checks the token itself: a signed SNS message needs none (SNS cannot send one).
        if (HttpMethods.IsPost(context.Request.Method) && api.Options.Token is { } token && context.Request.Path != Api.S3EventsApi.Path)
        {
            var header = context.Request.Headers.Authorization.ToString();
            if (header.Length == 0)
            {
                await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "missing Authorization: Bearer <token> (this server has CASCADE_API_TOKEN set; every POST needs it)");
                return;
            }

            if (!token.Matches(header))
            {
                await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "the bearer token in Authorization is wrong (it must equal CASCADE_API_TOKEN of the server)");
                return;
            }
        }

        try
        {
            await next(context);
            if (context.Response is { HasStarted: false, StatusCode: >= 400, ContentType: null })
            {
                // Answers of the framework itself (a method the route does not take): say so as a problem too.
                await Problems.WriteAsync(context, context.Response.StatusCode, context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
                    ? $"{context.Request.Path} does not take {context.Request.Method} (GET /openapi.json lists the endpoints)"
                    : $"{context.Request.Method} {context.Request.Path} was refused");
            }
        }
        catch (ProblemException p)
        {
            await Problems.WriteAsync(context, p.Status, p.Message, p.Field);
        }
        catch (Engine.Requests.RequestRefusedException r)
        {
            await Problems.WriteAsync(context, r.Kind switch
            {
                Engine.Requests.Refusal.NotFound => StatusCodes.Status404NotFound,
                Engine.Requests.Refusal.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status400BadRequest,
            }, r.Message, r.Field);
        }
        catch (StateStoreException e)
        {
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !context.RequestAborted.IsCancellationRequested)
        {
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"the server could not do it: {e.Message}");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
        catch (BadHttpRequestException e)
        {
            await Problems.WriteAsync(context, e.StatusCode, e.Message);
        }
#pragma warning disable CA1031 // the last line of defence: a bug is a 500 with no details, told to the operator
        catch (Exception e)
#pragma warning restore CA1031
        {
            api.Options.OnError?.Invoke($"HTTP {context.Request.Method} {context.Request.Path}: internal error {e.GetType().Name}: {e.Message}");
            await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error (please report it; the server's log says more)");
        }
    }

    /// <summary>Adds CORS headers for a configured origin; answers a preflight itself (true when done).</summary>
    private static bool Cors(HttpContext context, WebOptions options)
    {
        if (options.CorsOrigins.Count == 0 || context.Request.Headers.Origin is not [{ } origin])
        {
            return false;
        }

        if (!options.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase) && !options.CorsOrigins.Contains("*"))
        {
            return false;
        }

        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = "Origin";
        if (HttpMethods.IsOptions(context.Request.Method) && context.Request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            headers.AccessControlAllowMethods = new StringValues(["GET", "POST"]);
            headers.AccessControlAllowHeaders = new StringValues(["Authorization", "Content-Type", "Last-Event-ID"]);
            headers.AccessControlMaxAge = "600";
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return true;
        }

        return false;
    }
}
