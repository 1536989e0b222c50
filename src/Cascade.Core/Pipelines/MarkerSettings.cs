namespace Cascade.Core.Pipelines;

/// <summary>Where the pipeline's done markers live, as the pipeline file says: a closed set of stores.</summary>
public abstract record MarkerSettings
{
    private MarkerSettings()
    {
    }

    /// <summary>A folder, as written (relative to the pipeline file's folder). The embedded default.</summary>
    public sealed record Folder(string Path) : MarkerSettings;

    /// <summary>
    /// An S3-compatible bucket. <paramref name="Prefix"/> is empty or ends in '/'; without an
    /// <paramref name="Endpoint"/> the client talks to AWS in <paramref name="Region"/> (or the region
    /// of the standard AWS chain). Credentials always come from the standard AWS chain.
    /// </summary>
    public sealed record S3(string Bucket, string Prefix, string? Endpoint, string? Region, bool PathStyle) : MarkerSettings
    {
        /// <summary>How people see the store: <c>s3://bucket/prefix</c>.</summary>
        public string Url => $"s3://{Bucket}/{Prefix}";
    }
}
