using System.Text.Json.Serialization;

namespace Cascade.Cli;

/// <summary>
/// Every JSON the CLI serializes with <c>JsonSerializer</c>, source-generated (Native AOT is the
/// shipped form; reflection is off there). The <c>--json</c> outputs are written with
/// <c>Utf8JsonWriter</c> and need no context.
/// </summary>
[JsonSerializable(typeof(string))]
internal sealed partial class CliJson : JsonSerializerContext;
