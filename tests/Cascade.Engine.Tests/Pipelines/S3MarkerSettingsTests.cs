using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary><c>markers: { s3: { bucket, prefix, endpoint?, region?, path_style? } }</c>: typed settings, or errors with file:line:col.</summary>
public sealed class S3MarkerSettingsTests
{
    private const string Jobs = "\njobs:\n  a:\n    run: external\n";

    private static MarkerSettings Load(string markers)
    {
        var result = PipelineLoader.Load(markers + Jobs, "cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!.Definition.Markers;
    }

    private static string Error(string markers)
    {
        var result = PipelineLoader.Load(markers + Jobs, "cascade.yaml");
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void A_bucket_with_an_endpoint_defaults_to_path_style_and_the_prefix_ends_in_a_slash()
    {
        var s3 = Assert.IsType<MarkerSettings.S3>(Load("markers:\n  s3: { bucket: my-bucket, prefix: done, endpoint: http://127.0.0.1:9000 }\n  rescan_interval: 10s"));

        Assert.Equal(new MarkerSettings.S3("my-bucket", "done/", "http://127.0.0.1:9000", null, PathStyle: true), s3);
        Assert.Equal("s3://my-bucket/done/", s3.Url);
    }

    [Fact]
    public void A_bucket_on_aws_uses_virtual_hosted_addressing_unless_told_and_may_have_no_prefix()
    {
        Assert.Equal(new MarkerSettings.S3("b.example", "", null, "eu-west-1", false), Load("markers:\n  s3: { bucket: b.example, region: eu-west-1 }"));
        Assert.Equal(new MarkerSettings.S3("b.example", "x/y/", null, null, true), Load("markers:\n  s3: { bucket: b.example, prefix: x/y/, path_style: true }"));
    }

    [Fact]
    public void The_folder_is_the_default_store()
    {
        Assert.Equal(new MarkerSettings.Folder("./markers"), Load("markers:\n  layout: \"{job}__{partition}.done\""));
        Assert.Equal(new MarkerSettings.Folder("./done"), Load("markers:\n  folder: ./done"));
    }

    [Theory]
    [InlineData("markers:\n  folder: ./m\n  s3: { bucket: abc }", "cascade.yaml:3:7: markers: give either 'folder' or 's3', not both")]
    [InlineData("markers:\n  s3: { prefix: done/ }", "cascade.yaml:2:7: markers.s3 needs 'bucket' (the bucket's name)")]
    [InlineData("markers:\n  s3: { bucket: My_Bucket }", "cascade.yaml:2:17: markers.s3.bucket 'My_Bucket' may hold only lowercase letters, digits, '.' and '-'")]
    [InlineData("markers:\n  s3: { bucket: ab }", "cascade.yaml:2:17: markers.s3.bucket 'ab' must be 3 to 63 characters long")]
    [InlineData("markers:\n  s3: { bucket: abc, prefix: /done/ }", "cascade.yaml:2:30: markers.s3.prefix '/done/' must not start with '/' (keys have no leading slash: write done/, not /done/)")]
    [InlineData("markers:\n  s3: { bucket: abc, prefix: a/../b }", "cascade.yaml:2:30: markers.s3.prefix 'a/../b' must not hold '.' or '..' parts")]
    [InlineData("markers:\n  s3: { bucket: abc, endpoint: \"ftp://x\" }", "cascade.yaml:2:32: markers.s3.endpoint 'ftp://x' is not an http:// or https:// URL (e.g. http://127.0.0.1:9000)")]
    [InlineData("markers:\n  s3: { bucket: abc, region: \"Europe 1\" }", "cascade.yaml:2:30: markers.s3.region 'Europe 1' is not a region name (e.g. us-east-1)")]
    [InlineData("markers:\n  s3: { bucket: abc, path_style: maybe }", "cascade.yaml:2:34: markers.s3.path_style must be true or false, not 'maybe'")]
    [InlineData("markers:\n  s3: { bucket: abc, secret: x }", "cascade.yaml:2:22: unknown key 'secret' in markers.s3 (known: bucket, prefix, endpoint, region, path_style)")]
    [InlineData("markers:\n  s3: my-bucket", "cascade.yaml:2:7: markers.s3 must be a mapping: { bucket: NAME, prefix: done/, endpoint: URL, region: us-east-1, path_style: true }")]
    public void A_bad_s3_setting_is_one_error_at_its_line(string markers, string error)
    {
        Assert.Equal(error, Error(markers));
    }
}
