using Cascade.Core.Markers;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Core.Tests.Support;
using static Cascade.Core.Tests.Support.Build;

namespace Cascade.Core.Tests.Scheduling;

/// <summary>Issue 8, item 18: an argument ends at a NUL, so a value holding one must never be cut silently.</summary>
public sealed class NulParamTests
{
    [Fact]
    public void Regression_8_18_a_NUL_in_a_marker_param_fails_the_run_at_once_naming_the_placeholder_and_starts_nothing()
    {
        var h = new Harness(Job("a"), Job("b", "a") with { Retries = 3, Run = new RunSpec.Command(["./b.sh", "--region={params.region}", "{date}"]) });

        var effects = h.Marker("a", "20190312", new MarkerBody { Params = Map(("region", "eu\0; rm -rf /")) });

        Assert.Empty(Harness.StartsIn(effects));
        var run = h.Run("b", "20190312");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("{params.region}", run.Reason, StringComparison.Ordinal);
        Assert.Contains("NUL", run.Reason, StringComparison.Ordinal);
        Assert.Null(run.NextRetryAt);
    }

    [Fact]
    public void A_NUL_in_a_param_no_argument_uses_does_not_stop_the_run()
    {
        var h = new Harness(Job("a"), Job("b", "a") with { Run = new RunSpec.Command(["./b.sh", "{date}"]) });

        var started = Harness.StartsIn(h.Marker("a", "20190312", new MarkerBody { Params = Map(("unused", "x\0y")) }));

        Assert.Single(started);
    }

    [Fact]
    public void Regression_8_18_a_NUL_in_a_job_param_or_a_command_argument_is_a_validation_error()
    {
        var definition = new PipelineDefinition
        {
            SourcePath = "cascade.yaml",
            Jobs =
            [
                Job("a") with { Params = Map(("region", "e\0u")), Location = new SourceLocation(3, 3) },
                Job("b", "a") with { Run = new RunSpec.Command(["./b.sh", "x\0y"]), Location = new SourceLocation(7, 3) },
            ],
        };

        var errors = PipelineValidator.Validate(definition);

        Assert.Contains(errors, e => e.Location.Line == 3 && e.Message.Contains("param 'region' contains a NUL", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Line == 7 && e.Message.Contains("argument contains a NUL", StringComparison.Ordinal));
    }
}
