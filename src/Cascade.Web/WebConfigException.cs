namespace Cascade.Web;

/// <summary>The web server cannot start as configured (an address that is not allowed or cannot be bound); the message says what to do.</summary>
public sealed class WebConfigException(string message, Exception? inner = null) : Exception(message, inner);
