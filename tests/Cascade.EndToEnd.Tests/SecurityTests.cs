using System.Text.Json;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>Guarantee 5: no value from a marker reaches a shell; substitution is per argument.</summary>
public sealed class SecurityTests : IDisposable
{
    private const string Hostile = "$(touch pwned); rm -rf victim; `touch pwned2` && echo \"q\" 's' > redirected.txt | cat\nsecond line";

    private readonly TempWorkspace _ws = new();

    public SecurityTests()
    {
        _ws.Write("cascade.yaml", """
            jobs:
              upstream:
                run: external
              consumer:
                after: [upstream]
                run: { command: [./jobs/show-args.sh, "{params.x}", "--value={params.x}", "{date}"] }
            """);
        _ws.WriteScript("jobs/show-args.sh", """
            #!/bin/sh
            echo "$#" > argc.txt
            i=0
            for a in "$@"; do
              i=$((i + 1))
              printf '%s' "$a" > "arg$i.txt"
            done
            printf '%s' "$CASCADE_PARAMS" > params.json
            """);
        _ws.Write("victim/keep.txt", "still here");
    }

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_hostile_marker_param_reaches_the_command_as_one_literal_argument()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312", "--param", "x=" + Hostile)).AssertExitCode(0);
        using (var marker = JsonDocument.Parse(_ws.Read("markers/upstream__20190312.done")))
        {
            Assert.Equal(Hostile, marker.RootElement.GetProperty("params").GetProperty("x").GetString());
        }

        (await CascadeCli.RunAsync(_ws.Root, "run", "--until-idle")).AssertExitCode(0);

        Assert.Equal("3", _ws.Read("argc.txt").Trim());
        Assert.Equal(Hostile, _ws.Read("arg1.txt"));
        Assert.Equal("--value=" + Hostile, _ws.Read("arg2.txt"));
        Assert.Equal("2019-03-12", _ws.Read("arg3.txt"));
        using (var env = JsonDocument.Parse(_ws.Read("params.json")))
        {
            Assert.Equal(Hostile, env.RootElement.GetProperty("x").GetString());
        }

        Assert.Equal("still here", _ws.Read("victim/keep.txt"));
        Assert.DoesNotContain(_ws.Files(), f => Path.GetFileName(f) is "pwned" or "pwned2" or "redirected.txt");
    }
}
