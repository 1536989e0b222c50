namespace Cascade.Core.Pipelines;

/// <summary>
/// <c>run: { http: { url, method, headers, body, success_codes, timeout, resend, on_restart, aws } }</c>: a remote job
/// activated by one HTTP request. Placeholders may appear in the URL (each value URL-escaped),
/// header values and body strings (JSON-escaped); <c>${ENV}</c> in them is expanded from the
/// environment when the request is sent (secrets stay out of the file and out of the state).
/// </summary>
public sealed partial record HttpActivation
{
    public required string Url { get; init; }

    public string Method { get; init; } = "POST";

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The JSON body; null sends none.</summary>
    public BodyTemplate? Body { get; init; }

    /// <summary>Statuses that mean "activated"; empty = any 2xx.</summary>
    public IReadOnlyList<int> SuccessCodes { get; init; } = [];

    /// <summary>How long one request may take; a timeout is retried like a 5xx.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a 5xx or a timeout is sent again within the attempt. False for a target that has no
    /// idempotency key (AWS Glue, AWS Data Pipeline): a timed-out request may have started the job,
    /// so the attempt fails instead and only the job's <c>retries</c> send it again.
    /// </summary>
    public bool Resend { get; init; } = true;

    /// <summary>
    /// What a starting scheduler does with an attempt of this job that was waiting for its marker when
    /// the previous scheduler stopped: wait for the marker (default) or send the same attempt again.
    /// </summary>
    public RemoteRestart OnRestart { get; init; } = RemoteRestart.Wait;

    /// <summary>Sign the request with AWS SigV4 for this service and region (credentials from the standard AWS chain); null = unsigned.</summary>
    public AwsSigning? Aws { get; init; }

    /// <summary>Every template string: the URL, header values and body strings.</summary>
    public IEnumerable<string> Templates() =>
        new[] { Url }.Concat(Headers.Select(h => h.Value)).Concat(Body?.Templates() ?? []);

    /// <summary>The templates without their <c>${ENV}</c> references, which are not placeholders (for the placeholder checks).</summary>
    public IEnumerable<string> PlaceholderTemplates() =>
        Templates().Select(t => t.Contains("${", StringComparison.Ordinal) ? EnvironmentReference().Replace(t, string.Empty) : t);

    [System.Text.RegularExpressions.GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*\}")]
    private static partial System.Text.RegularExpressions.Regex EnvironmentReference();

    public bool IsSuccess(int status) => SuccessCodes.Count == 0 ? status is >= 200 and < 300 : SuccessCodes.Contains(status);
}
