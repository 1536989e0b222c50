using Cascade.Core.Pipelines;
using Cascade.Engine.Pipelines;

namespace Cascade.Engine.Tests.Pipelines;

/// <summary>Issue 8, item 11: texts and files that crashed the loader are located errors.</summary>
public sealed class PipelineLoaderCrashTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cascade-loader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, int> Crashers() => new()
    {
        { "an unclosed [ at the end of a line", "jobs:\n  a:\n    run: external\n  b:\n    after: [a\n    run: external\n", 5 },
        { "an unclosed nested flow map", "jobs:\n  b:\n    after:\n      - { job: {a: b}\n    run: external\n", 4 },
        { "U+2028 inside a flow sequence", "jobs:\n  a:\n    run: external\n  b:\n    after: [a,\u2028 a]\n    run: external\n", 5 },
        { "nesting 100000 deep", "jobs: " + new string('[', 100_000), 1 },
        { "an alias inside the collection it names", "jobs:\n  &a [ *a ]: { run: external }\n", 2 },
    };

    [Theory]
    [MemberData(nameof(Crashers))]
    public void Regression_8_11_yaml_that_crashed_the_loader_is_a_located_syntax_error(string what, string yaml, int minLine)
    {
        var result = PipelineLoader.Load(yaml, "cascade.yaml");

        Assert.False(result.IsValid, what);
        var error = Assert.Single(result.Errors);
        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Location.Line, minLine, minLine + 2);
        Assert.Matches(@"^cascade\.yaml:[0-9]+:[0-9]+: ", error.ToString());
    }

    [Fact]
    public void Regression_8_11_a_device_such_as_dev_zero_is_an_error_naming_the_file_not_an_out_of_memory_crash()
    {
        Assert.True(File.Exists("/dev/zero") || !OperatingSystem.IsLinux(), "/dev/zero is missing on this Linux machine");
        if (!File.Exists("/dev/zero"))
        {
            return; // not a Unix machine
        }

        var result = PipelineLoader.LoadFile("/dev/zero");

        var error = Assert.Single(result.Errors);
        Assert.Equal("/dev/zero", error.File);
        Assert.Contains("not a regular file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_8_11_a_file_of_3_GiB_is_refused_unread()
    {
        var path = Path.Combine(_dir, "huge.yaml");
        using (var file = File.Create(path))
        {
            file.SetLength(3L << 30); // sparse: no disk used
        }

        var result = PipelineLoader.LoadFile(path);

        var error = Assert.Single(result.Errors);
        Assert.Contains("at most", error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.File);
    }

    [Fact]
    public void Regression_8_18_a_directory_given_as_the_pipeline_file_says_it_is_a_directory()
    {
        var result = PipelineLoader.LoadFile(_dir);

        var error = Assert.Single(result.Errors);
        Assert.Contains("is a directory", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not found", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"a\\n\"")]
    [InlineData("\"a\\u2028\"")]
    [InlineData("\"a\\t\"")]
    public void Regression_8_18_a_job_name_with_a_trailing_newline_or_separator_is_refused_and_shown_escaped(string quoted)
    {
        var result = PipelineLoader.Load($"jobs:\n  {quoted}:\n    run: external\n", "cascade.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("is not valid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.ToString());
        Assert.StartsWith("cascade.yaml:2:3: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_8_11_a_duration_in_other_digits_is_an_error_not_a_crash()
    {
        var result = PipelineLoader.Load("defaults:\n  retry_backoff: \u0663s\njobs:\n  a: { run: external }\n", "cascade.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("is not a duration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_anchors_still_load()
    {
        var result = PipelineLoader.Load("jobs:\n  a: &ext { run: external }\n  b: *ext\n", "cascade.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }
}
