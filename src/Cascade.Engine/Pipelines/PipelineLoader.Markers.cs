using Cascade.Core.Markers;
using Cascade.Core.Pipelines;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

public static partial class PipelineLoader
{
    private static readonly string[] S3Keys = ["bucket", "prefix", "endpoint", "region", "path_style"];

    private sealed partial class Reader
    {
        /// <summary>
        /// <c>markers: { folder | s3: { bucket, prefix, endpoint?, region?, path_style? }, layout, rescan_interval }</c>.
        /// </summary>
        private (MarkerSettings Store, MarkerLayout Layout, TimeSpan Rescan) ReadMarkers(YamlMappingNode root)
        {
            MarkerSettings store = new MarkerSettings.Folder("./markers");
            var layout = MarkerLayout.Default;
            var rescan = TimeSpan.FromSeconds(30);
            if (Get(root, "markers") is not { } markersNode)
            {
                return (store, layout, rescan);
            }

            if (markersNode is not YamlMappingNode markers)
            {
                Error(markersNode, "'markers' must be a mapping (folder or s3, layout, rescan_interval)");
                return (store, layout, rescan);
            }

            CheckKeys(markers, MarkerKeys, "markers");
            if (Get(markers, "s3") is { } s3Node)
            {
                if (Get(markers, "folder") is not null)
                {
                    Error(s3Node, "markers: give either 'folder' or 's3', not both");
                }

                store = ReadS3(s3Node) ?? store;
            }
            else if (OptionalScalar(markers, "folder") is { } folder)
            {
                store = new MarkerSettings.Folder(folder);
            }

            if (Get(markers, "layout") is { } layoutNode && Scalar(layoutNode, "markers.layout") is { } pattern)
            {
                if (MarkerLayout.TryParse(pattern, out var parsed, out var problem))
                {
                    layout = parsed!;
                }
                else
                {
                    Error(layoutNode, problem!);
                }
            }

            rescan = DurationValue(markers, "rescan_interval") ?? rescan;
            return (store, layout, rescan);
        }

        private MarkerSettings.S3? ReadS3(YamlNode node)
        {
            if (node is not YamlMappingNode s3)
            {
                Error(node, "markers.s3 must be a mapping: { bucket: NAME, prefix: done/, endpoint: URL, region: us-east-1, path_style: true }");
                return null;
            }

            CheckKeys(s3, S3Keys, "markers.s3");
            var ok = true;
            var bucket = OptionalScalar(s3, "bucket");
            if (bucket is null)
            {
                Error(s3, "markers.s3 needs 'bucket' (the bucket's name)");
                ok = false;
            }
            else if (S3Names.BucketProblem(bucket) is { } problem)
            {
                Error(Get(s3, "bucket")!, $"markers.s3.bucket '{Shown(bucket)}' {problem}");
                ok = false;
            }

            var prefix = OptionalScalar(s3, "prefix") ?? string.Empty;
            if (S3Names.PrefixProblem(prefix) is { } prefixProblem)
            {
                Error(Get(s3, "prefix")!, $"markers.s3.prefix '{Shown(prefix)}' {prefixProblem}");
                ok = false;
            }

            var endpoint = OptionalScalar(s3, "endpoint");
            if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Query.Length == 0))
            {
                Error(Get(s3, "endpoint")!, $"markers.s3.endpoint '{Shown(endpoint)}' is not an http:// or https:// URL (e.g. http://127.0.0.1:9000)");
                ok = false;
            }

            var region = OptionalScalar(s3, "region");
            if (region is not null && !S3Names.IsRegion(region))
            {
                Error(Get(s3, "region")!, $"markers.s3.region '{Shown(region)}' is not a region name (e.g. us-east-1)");
                ok = false;
            }

            // Path-style addressing by default only for a custom endpoint (MinIO, s3rver and most others need it).
            var pathStyle = endpoint is not null;
            if (Get(s3, "path_style") is { } styleNode && Scalar(styleNode, "path_style") is { } style && !bool.TryParse(style, out pathStyle))
            {
                Error(styleNode, $"markers.s3.path_style must be true or false, not '{Shown(style)}'");
                ok = false;
            }

            return ok ? new MarkerSettings.S3(bucket!, S3Names.NormalPrefix(prefix), endpoint, region, pathStyle) : null;
        }

        private static string Shown(string value) => value.Length > 80 ? value[..80] + "…" : value;
    }
}
