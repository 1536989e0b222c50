namespace Cascade.Engine.State;

/// <summary>The state store cannot be used (locked, newer schema, unreadable); the message says what to do.</summary>
public sealed class StateStoreException : Exception
{
    public StateStoreException(string message)
        : base(message)
    {
    }

    public StateStoreException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
