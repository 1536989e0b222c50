using System.Globalization;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cascade.Web.Api;

/// <summary>Query-string and route values, checked: a refusal names the parameter and the cause.</summary>
internal static class Query
{
    public static string? String(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        if (values.Count > 1)
        {
            throw ProblemException.BadRequest($"{name} is given {values.Count} times; give it once", name);
        }

        return values.Count == 1 && values[0] is { Length: > 0 } v ? v : null;
    }

    public static int? Int(HttpContext context, string name, int min, int max)
    {
        if (String(context, name) is not { } text)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw ProblemException.BadRequest($"{name} '{text}' must be a whole number from {min} to {max}", name);
    }

    public static string Route(HttpContext context, string name) =>
        context.Request.RouteValues[name] as string ?? throw ProblemException.BadRequest($"{name} is missing", name);

    /// <summary>The run key of the route <c>{job}/{partition}</c>: an unknown job is a 404, a partition of the wrong form or grain a 400.</summary>
    public static RunKey Key(HttpContext context, Pipeline pipeline) =>
        Targets.Key(pipeline, Route(context, "job"), Route(context, "partition"));

    public static Partition Partition(string text, string name) => Targets.ParsePartition(text, name);
}
