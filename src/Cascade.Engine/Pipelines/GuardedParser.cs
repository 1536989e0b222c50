using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Cascade.Engine.Pipelines;

/// <summary>
/// A YAML event stream with limits, read by <c>YamlStream.Load</c>. The representation model
/// builds nodes recursively, so a text nested thousands deep (<c>[[[[…</c>) or an alias inside
/// the collection it names (<c>&amp;a [*a]</c>) would overflow the stack — a crash no handler
/// catches. Here such a text stops with a <see cref="YamlException"/> at the offending event:
/// nesting deeper than <see cref="MaxDepth"/>, an alias to a collection still open, or aliases
/// that expand to more than <see cref="MaxExpandedEvents"/> events (the "billion laughs").
/// </summary>
internal sealed class GuardedParser(IParser inner) : IParser
{
    public const int MaxDepth = 64;
    public const long MaxExpandedEvents = 1_000_000;

    private readonly Stack<(string? Anchor, long StartedAt)> _open = new();
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private long _expanded;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }

        var e = inner.Current!;
        _expanded++;
        switch (e)
        {
            case SequenceStart or MappingStart:
                if (_open.Count >= MaxDepth)
                {
                    throw new YamlException(e.Start, e.End, $"the text is nested more than {MaxDepth} levels deep");
                }

                var anchor = ((NodeEvent)e).Anchor;
                _open.Push((anchor.IsEmpty ? null : anchor.Value, _expanded));
                break;
            case SequenceEnd or MappingEnd:
                var (name, startedAt) = _open.Pop();
                if (name is not null)
                {
                    _sizes[name] = _expanded - startedAt + 1;
                }

                break;
            case AnchorAlias alias:
                if (_open.Any(o => o.Anchor == alias.Value.Value))
                {
                    throw new YamlException(e.Start, e.End, $"the alias *{alias.Value.Value} is inside the collection it names (a recursive structure)");
                }

                _expanded += _sizes.GetValueOrDefault(alias.Value.Value, 1);
                break;
            case Scalar { Anchor.IsEmpty: false } scalar:
                _sizes[scalar.Anchor.Value] = 1;
                break;
        }

        if (_expanded > MaxExpandedEvents)
        {
            throw new YamlException(e.Start, e.End, "the aliases expand to a document too large to be a pipeline");
        }

        return true;
    }
}
