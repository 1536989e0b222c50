namespace Cascade.Engine.Requests;

/// <summary>Why a request is refused, for the front door to answer with (the CLI: exit 1; the API: 400, 404 or 409).</summary>
public enum Refusal
{
    /// <summary>A value is wrong (a bad partition, a reversed range, an external job to run).</summary>
    Invalid,

    /// <summary>What it names does not exist (a job, a run, a backfill).</summary>
    NotFound,

    /// <summary>The state does not allow it now (the run succeeded already, is running, a marker exists).</summary>
    Conflict,
}

/// <summary>
/// A request refused before anything was changed; the message names the cause and, through
/// <see cref="Field"/>, the input at fault. Raised alike for the CLI and the HTTP API (one behaviour,
/// two front doors).
/// </summary>
public sealed class RequestRefusedException(string message, Refusal kind = Refusal.Invalid, string? field = null) : Exception(message)
{
    public Refusal Kind { get; } = kind;

    public string? Field { get; } = field;
}
