using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Cascade.Engine.Executors.Http;

/// <summary>
/// Activates a remote job with one HTTP request (<c>run.http</c>) and keeps the attempt running
/// until the job's marker is observed: a remote run is done when its marker says so, not when the
/// request is answered. Within one attempt, 5xx answers, timeouts and failed connections are sent
/// again (Polly: <see cref="Retries"/> more tries, exponential backoff with jitter); a 4xx (or any
/// status outside <c>success_codes</c> below 500) fails the attempt at once, not retried, with the
/// status and the start of the answer in the reason. When the tries run out, the attempt fails and
/// the scheduler retries it with the job's <c>retry_backoff</c>, as for a failed command.
/// <para>A re-sent request within an attempt carries the same <c>{run_id}</c> and <c>{attempt}</c>,
/// so a target that takes an idempotency key from them (a Step Functions execution name) starts one
/// execution however often it is asked (docs/cloud.md).</para>
/// <para>After a success status the attempt waits for <see cref="AttemptContext.MarkerObserved"/>,
/// at most the job's <c>run_timeout</c>: then it fails (retried) with "no marker within …".</para>
/// </summary>
public sealed class HttpExecutor : IExecutor
{
    private const int ReasonBodyChars = 200;
    private readonly Pipeline _pipeline;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Func<string, string?> _environment;
    private readonly Func<AWSCredentials> _credentials;
    private readonly Dictionary<string, ResiliencePipeline<HttpResponseMessage>> _resilience = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <param name="pipeline">Where each job's <c>run.http</c> is read.</param>
    /// <param name="http">The client requests go through (its own timeout unused: each job has its <c>timeout</c>).</param>
    /// <param name="time">The clock of backoffs, timeouts and <c>run_timeout</c>.</param>
    /// <param name="environment">Where <c>${ENV}</c> is looked up.</param>
    /// <param name="credentials">AWS credentials for signed requests; default: the standard AWS chain, asked at the first signed request.</param>
    public HttpExecutor(Pipeline pipeline, HttpClient http, TimeProvider time, Func<string, string?> environment, Func<AWSCredentials>? credentials = null)
    {
        _pipeline = pipeline;
        _http = http;
        _time = time;
        _environment = environment;
        _credentials = credentials ?? (() => DefaultAWSCredentialsIdentityResolver.GetCredentials());
    }

    /// <summary>Extra tries of one request after a 5xx, a timeout or a failed connection.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>The wait before the first extra try; it doubles (with jitter) for the next.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<AttemptOutcome> ExecuteAsync(Activation activation, AttemptContext context, CancellationToken kill)
    {
        var job = _pipeline[activation.Key.Job];
        if (job.Run is not RunSpec.Http { Request: var spec })
        {
            return new AttemptOutcome.NotStarted($"job '{job.Name}' has no run.http");
        }

        // A restart appends to the attempt's log: it is the same attempt, and its first lines say what was sent.
        await using var log = new AttemptLog(context.LogPath, _time, append: activation.AfterRestart is not null);
        if (activation.AfterRestart == RemoteRestart.Wait)
        {
            return await WaitAfterRestartAsync(activation, job.RunTimeout, context, log, kill);
        }

        if (activation.AfterRestart == RemoteRestart.Resend)
        {
            await log.WriteAsync($"the scheduler stopped while this attempt waited for its marker; sending it again (on_restart: resend; same attempt and run id {activation.RunId}, so the target's idempotency key repeats)");
        }

        if (HttpRendering.Render(spec, activation, _environment, out var problem) is not { } request)
        {
            await log.WriteAsync(problem!);
            return new AttemptOutcome.NotStarted(problem!);
        }

        var shown = Shown(request.Url);
        context.Started?.Invoke();
        int status;
        string answer;
        try
        {
            (status, answer) = await SendAsync(job.Name, spec, request, shown, log, kill);
        }
        catch (OperationCanceledException) when (kill.IsCancellationRequested)
        {
            await log.WriteAsync($"killed: {context.KillReason?.Invoke() ?? "the scheduler stopped"}");
            return new AttemptOutcome.Killed();
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or IOException or OperationCanceledException)
        {
            var reason = $"{request.Method} {shown} failed{(spec.Resend ? $" after {Tries(spec)} tries" : string.Empty)}: {Describe(e, spec.Timeout)}";
            await log.WriteAsync(reason);
            return new AttemptOutcome.Failed(reason, Retry: true);
        }
        catch (Exception e) when (e is AmazonClientException or AmazonServiceException)
        {
            var reason = $"cannot sign {request.Method} {shown} for AWS: {e.Message}";
            await log.WriteAsync(reason);
            return new AttemptOutcome.Failed(reason, Retry: true);
        }

        if (!spec.IsSuccess(status))
        {
            var retry = status >= 500;
            var reason = $"{request.Method} {shown} answered {status} {ReasonPhrase(status)}{(retry && spec.Resend ? $" after {Tries(spec)} tries" : string.Empty)}{(answer.Length > 0 ? ": " + answer : string.Empty)}";
            await log.WriteAsync(reason);
            return new AttemptOutcome.Failed(reason, retry);
        }

        // The run_timeout counts from the attempt's recorded start, so a restart keeps the same deadline.
        var runTimeout = job.RunTimeout;
        var limit = runTimeout is { } r && activation.StartedAt is { } started ? Max(started + r - _time.GetUtcNow(), TimeSpan.Zero) : runTimeout;
        return await WaitForMarkerAsync(context, limit, log, $"activated ({status} {ReasonPhrase(status)}); the run stays running until its marker appears{(runTimeout is { } l ? $" (run_timeout {Duration.Format(l)})" : string.Empty)}", kill, runTimeout);
    }

    /// <summary>
    /// <c>on_restart: wait</c>: the activation was sent by the scheduler that stopped; nothing is sent.
    /// The run_timeout counts from the attempt's recorded start, so it is the same deadline across
    /// any number of restarts (and one already passed fails the attempt at once).
    /// </summary>
    private async Task<AttemptOutcome> WaitAfterRestartAsync(Activation activation, TimeSpan? runTimeout, AttemptContext context, AttemptLog log, CancellationToken kill)
    {
        var sent = activation.StartedAt ?? _time.GetUtcNow();
        var what = $"the scheduler stopped while this attempt waited for its marker (activation sent at {sent.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z); not sent again (on_restart: wait)";
        if (runTimeout is not { } l)
        {
            return await WaitForMarkerAsync(context, null, log, what + "; waiting for its marker (no run_timeout)", kill, runTimeout);
        }

        var deadline = sent + l;
        var left = deadline - _time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            await log.WriteAsync(what);
            var reason = $"no marker within run_timeout {Duration.Format(l)} after the activation";
            await log.WriteAsync(reason);
            return new AttemptOutcome.Failed(reason, Retry: true);
        }

        return await WaitForMarkerAsync(context, left, log, what + $"; waiting for its marker until run_timeout at {deadline.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z", kill, runTimeout);
    }

    /// <summary>Waits for the marker at most <paramref name="limit"/> from now (null: no limit); <paramref name="runTimeout"/>, when given, is the run_timeout the reason names.</summary>
    private async Task<AttemptOutcome> WaitForMarkerAsync(AttemptContext context, TimeSpan? limit, AttemptLog log, string activated, CancellationToken kill, TimeSpan? runTimeout = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(kill);
        var marker = context.MarkerObserved ?? Task.Delay(Timeout.InfiniteTimeSpan, _time, stop.Token);
        var timeout = limit is { } l ? Task.Delay(l, _time, stop.Token) : Task.Delay(Timeout.InfiniteTimeSpan, _time, stop.Token);
        var killed = Task.Delay(Timeout.InfiniteTimeSpan, _time, kill);

        // Logged once the run_timeout clock runs: the activation's time is where it counts from.
        await log.WriteAsync(activated);
        var first = await Task.WhenAny(marker, timeout, killed);
        await stop.CancelAsync();
        if (first == marker && marker.IsCompletedSuccessfully)
        {
            await log.WriteAsync("marker observed: the run succeeded");
            return new AttemptOutcome.Exited(0);
        }

        if (first == timeout && !kill.IsCancellationRequested)
        {
            var reason = $"no marker within run_timeout {Duration.Format(runTimeout ?? limit!.Value)} after the activation";
            await log.WriteAsync(reason);
            return new AttemptOutcome.Failed(reason, Retry: true);
        }

        await log.WriteAsync($"killed: {context.KillReason?.Invoke() ?? "the scheduler stopped"}");
        return new AttemptOutcome.Killed();
    }

    /// <summary>The status and the start of the answer's body (one line, at most <see cref="ReasonBodyChars"/> characters).</summary>
    private async Task<(int Status, string Answer)> SendAsync(string job, HttpActivation spec, RenderedRequest request, string shown, AttemptLog log, CancellationToken kill)
    {
        var tries = 0;
        using var response = await Resilience(job, spec).ExecuteAsync(async ct =>
        {
            tries++;
            await log.WriteAsync($"{request.Method} {shown} (try {tries} of {Tries(spec)})");
            using var message = await BuildAsync(spec, request, ct);
            var answer = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            await log.WriteAsync($"answered {(int)answer.StatusCode} {ReasonPhrase((int)answer.StatusCode)}");
            return answer;
        }, kill);
        var start = await ReadStartAsync(response, kill);
        return ((int)response.StatusCode, start);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private int Tries(HttpActivation spec) => spec.Resend ? Retries + 1 : 1;

    private async Task<HttpRequestMessage> BuildAsync(HttpActivation spec, RenderedRequest request, CancellationToken ct)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        var contentType = request.Body is null ? null : request.Headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value ?? "application/json";
        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        var headers = request.Headers.Where(h => !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).ToList();
        if (spec.Aws is { } aws)
        {
            // Signed at every try: a signature is valid for minutes, a retry may come later.
            headers.AddRange(await AwsSigV4.SignAsync(request with { Headers = headers }, contentType, aws, _credentials(), _time.GetUtcNow().UtcDateTime, ct));
        }

        foreach (var (name, value) in headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    /// <summary>One pipeline per job (its own timeout), built at its first activation: Polly validates options by reflection, which a Native AOT start-up should not pay for unused jobs.</summary>
    private ResiliencePipeline<HttpResponseMessage> Resilience(string job, HttpActivation spec)
    {
        lock (_gate)
        {
            if (!_resilience.TryGetValue(job, out var pipeline))
            {
                var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time };
                if (Retries > 0 && spec.Resend)
                {
                    builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                    {
                        MaxRetryAttempts = Retries,
                        Delay = FirstRetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                            .Handle<HttpRequestException>()
                            .Handle<TimeoutRejectedException>()
                            .HandleResult(r => (int)r.StatusCode >= 500 && !spec.IsSuccess((int)r.StatusCode)),
                        OnRetry = args =>
                        {
                            args.Outcome.Result?.Dispose();
                            return default;
                        },
                    });
                }

                pipeline = builder.AddTimeout(spec.Timeout).Build();
                _resilience[job] = pipeline;
            }

            return pipeline;
        }
    }

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[ReasonBodyChars * 4];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0)
            {
                total += n;
            }

            var text = Encoding.UTF8.GetString(buffer, 0, total);
            var line = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
            return line.Length > ReasonBodyChars ? line[..ReasonBodyChars] + "…" : line;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return string.Empty;
        }
    }

    /// <summary>scheme://host[:port]/… — a URL's path and query may hold secrets, so they are never shown.</summary>
    internal static string Shown(Uri url) => $"{url.Scheme}://{url.Authority}/…";

    private static string ReasonPhrase(int status) =>
        Enum.IsDefined((HttpStatusCode)status) ? System.Text.RegularExpressions.Regex.Replace(((HttpStatusCode)status).ToString(), "(?<=[a-z])(?=[A-Z])", " ") : string.Empty;

    private static string Describe(Exception e, TimeSpan timeout) => e switch
    {
        TimeoutRejectedException or OperationCanceledException => $"no answer within {Duration.Format(timeout)}",
        HttpRequestException { InnerException: { } inner } => inner.Message,
        _ => e.Message,
    };
}
