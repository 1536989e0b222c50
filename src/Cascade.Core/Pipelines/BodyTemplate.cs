namespace Cascade.Core.Pipelines;

/// <summary>
/// The JSON body of an HTTP activation as written in the pipeline file, before placeholders are
/// filled in: a tree whose string leaves are templates. It is written out by a JSON writer, so a
/// value is always JSON-escaped inside a string and can never change the document's shape.
/// </summary>
public abstract record BodyTemplate
{
    private BodyTemplate()
    {
    }

    /// <summary>A JSON string whose text may hold placeholders.</summary>
    public sealed record Text(string Template) : BodyTemplate;

    /// <summary>A number, <c>true</c>, <c>false</c> or <c>null</c> exactly as written (no placeholders).</summary>
    public sealed record Literal(string Json) : BodyTemplate;

    /// <summary>A JSON object: its members in file order.</summary>
    public sealed record Members(IReadOnlyList<KeyValuePair<string, BodyTemplate>> Entries) : BodyTemplate;

    /// <summary>A JSON array.</summary>
    public sealed record Items(IReadOnlyList<BodyTemplate> Values) : BodyTemplate;

    /// <summary>
    /// <c>!json</c> in YAML: the value rendered as JSON text, sent as one string (an API that takes a
    /// JSON document inside a string, such as Step Functions' <c>input</c>): escaped twice, never pasted.
    /// </summary>
    public sealed record Embedded(BodyTemplate Value) : BodyTemplate;

    /// <summary>Every template string in the tree (for placeholder checks).</summary>
    public IEnumerable<string> Templates() => this switch
    {
        Text t => [t.Template],
        Members o => o.Entries.SelectMany(m => m.Value.Templates()),
        Items a => a.Values.SelectMany(i => i.Templates()),
        Embedded e => e.Value.Templates(),
        _ => [],
    };
}
