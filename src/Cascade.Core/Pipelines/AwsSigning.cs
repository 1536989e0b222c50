namespace Cascade.Core.Pipelines;

/// <summary>AWS SigV4 signing of an HTTP activation: the signing name of the service (<c>states</c>, <c>glue</c>, <c>datapipeline</c>) and the region.</summary>
public sealed record AwsSigning(string Service, string Region);
