namespace Cascade.Web;

/// <summary>
/// A refused request, answered as <c>application/problem+json</c>: the status, the field at fault
/// (a JSON member, a query parameter or a route value; null when the request as a whole is at fault)
/// and a <see cref="Exception.Message"/> that names the cause. Thrown before anything is changed.
/// </summary>
public sealed class ProblemException(int status, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string? Field { get; } = field;

    public static ProblemException BadRequest(string detail, string? field = null) => new(400, detail, field);

    public static ProblemException NotFound(string detail, string? field = null) => new(404, detail, field);

    public static ProblemException Conflict(string detail, string? field = null) => new(409, detail, field);
}
