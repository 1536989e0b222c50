using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 8, items 12, 16 and 18: hostile or mistaken command lines get a clear error and exit 1,
/// never "internal error", exit 70 or a stack trace; help and hints say what works.
/// </summary>
public sealed partial class CommandLineTests : IDisposable
{
    private const string Pipeline = """
        jobs:
          upstream:
            run: external
          down:
            after: [upstream]
            run: { command: [sh, -c, "exit 0"] }
        """;

    private readonly TempWorkspace _ws = new();

    public CommandLineTests() => _ws.Write("cascade.yaml", Pipeline);

    public void Dispose() => _ws.Dispose();

    /// <summary>Exit 1 with a one-line reason on stderr and nothing that looks like a crash.</summary>
    internal static void AssertClearError(CliResult result, params string[] words)
    {
        result.AssertExitCode(1);
        CommandLineFuzzTests.AssertNoCrash(result);
        foreach (var word in words)
        {
            Assert.True(result.StdErr.Contains(word, StringComparison.Ordinal), $"stderr does not say '{word}':\n{result}");
        }
    }

    public static TheoryData<string[]> CommandsWithEmptyFile() => new()
    {
        { ["validate", "-f", ""] },
        { ["graph", "-f", ""] },
        { ["run", "--until-idle", "-f", ""] },
        { ["done", "-f", "", "upstream", "20190312"] },
        { ["trigger", "-f", "", "down", "20190312"] },
        { ["status", "-f", ""] },
        { ["why", "-f", "", "down", "20190312"] },
        { ["logs", "-f", "", "down", "20190312"] },
        { ["replay", "-f", "", "down", "20190312"] },
        { ["backfill", "-f", "", "--from", "2019-03-01", "--to", "2019-03-02"] },
        { ["cancel", "-f", "", "down", "20190312"] },
        { ["history", "-f", "", "down", "20190312"] },
    };

    [Theory]
    [MemberData(nameof(CommandsWithEmptyFile))]
    public async Task Regression_8_12_an_empty_file_option_is_a_clear_error_on_every_command(string[] args)
    {
        AssertClearError(await CascadeCli.RunAsync(_ws.Root, args), "-f/--file is empty");
    }

    public static TheoryData<string, string> BadInitTargets() => new()
    {
        { "an empty name", "" },
        { "a 300-character name", new string('a', 300) },
        { "an existing file", "cascade.yaml" },
        { "a folder below a file", "cascade.yaml/sub" },
        { "a folder it cannot create", "/proc/cascade-init-test" },
    };

    [Theory]
    [MemberData(nameof(BadInitTargets))]
    public async Task Regression_8_12_init_into_a_target_it_cannot_use_is_a_clear_error_and_writes_nothing(string what, string target)
    {
        var before = _ws.Files();

        var result = await CascadeCli.RunAsync(_ws.Root, "init", target);

        AssertClearError(result, "error: ");
        Assert.True(result.StdErr.Trim().Split('\n').Length == 1, $"{what}: more than one line:\n{result}");
        Assert.Equal(before, _ws.Files());
    }

    [Fact]
    public async Task Regression_8_18_init_help_does_not_offer_a_file_option_but_the_commands_that_read_one_do()
    {
        var init = (await CascadeCli.RunAsync(_ws.Root, "init", "--help")).AssertExitCode(0);
        var validate = (await CascadeCli.RunAsync(_ws.Root, "validate", "--help")).AssertExitCode(0);

        Assert.DoesNotContain("--file", init.StdOut, StringComparison.Ordinal);
        Assert.Contains("-f, --file", validate.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_18_short_j_means_max_parallel_on_every_command_that_has_it()
    {
        foreach (var command in new[] { "init", "validate", "graph", "run", "done", "trigger", "status", "why", "logs", "replay", "backfill", "cancel", "history" })
        {
            var help = (await CascadeCli.RunAsync(_ws.Root, command, "--help")).AssertExitCode(0);
            foreach (var line in help.StdOut.Split('\n').Where(l => Regex.IsMatch(l, @"(^|\s)-j\b")))
            {
                Assert.Contains("--max-parallel", line, StringComparison.Ordinal);
            }
        }

        var usage = (await CascadeCli.RunAsync(_ws.Root, "status", "-j", "down")).AssertExitCode(2); // bad usage
        CommandLineFuzzTests.AssertNoCrash(usage);
        Assert.Contains("'-j'", usage.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_18_a_directory_given_as_the_file_says_it_is_a_directory()
    {
        Directory.CreateDirectory(_ws.PathOf("sub"));

        var result = await CascadeCli.RunAsync(_ws.Root, "validate", "-f", "sub");

        AssertClearError(result, "sub: is a directory");
        Assert.DoesNotContain("not found", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_18_done_on_an_existing_marker_keeps_its_body_unless_forced_and_says_so()
    {
        (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312", "--param", "region=eu")).AssertExitCode(0);
        var body = _ws.Read("markers/upstream__20190312.done");

        AssertClearError(await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312", "--param", "region=us"), "exists already", "--force", "cascade replay");
        Assert.Equal(body, _ws.Read("markers/upstream__20190312.done"));

        var forced = (await CascadeCli.RunAsync(_ws.Root, "done", "upstream", "20190312", "--param", "region=us", "--force")).AssertExitCode(0);
        Assert.Contains("marker replaced", forced.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"us\"", _ws.Read("markers/upstream__20190312.done"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_18_validate_reports_a_missing_or_not_executable_program_at_the_command_and_warns_of_one_not_on_path()
    {
        _ws.WriteScript("jobs/bi_import.sh", "#!/bin/sh\nexit 0\n");
        _ws.Write("jobs/plain.sh", "exit 0\n");
        _ws.Write("cascade.yaml", """
            jobs:
              up:
                run: external
              bi:
                after: [up]
                run: { command: [./jobs/bi_imprt.sh, "{date}"] }
              plain:
                after: [up]
                run: { command: [jobs/plain.sh] }
              ok:
                after: [up]
                run: { command: [./jobs/bi_import.sh] }
              tool:
                after: [up]
                run: { command: [no-such-tool-8-18] }
            """);

        var result = await CascadeCli.RunAsync(_ws.Root, "validate");

        AssertClearError(result, "2 error(s)");
        Assert.Matches(@"(?m)^cascade\.yaml:6:22: job 'bi': program './jobs/bi_imprt.sh' does not exist .*did you mean 'bi_import.sh'", result.StdErr);
        Assert.Matches(@"(?m)^cascade\.yaml:9:22: job 'plain': program 'jobs/plain.sh' is not executable", result.StdErr);
        Assert.Matches(@"(?m)^cascade\.yaml:15:22: warning: job 'tool': program 'no-such-tool-8-18' is not found on PATH", result.StdErr);
        Assert.DoesNotContain("'ok'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_8_18_the_init_hint_prints_a_command_that_works_here()
    {
        var init = (await CascadeCli.RunAsync(_ws.Root, "init", "demo")).AssertExitCode(0);
        var hint = init.StdOut.Split('\n').Single(l => l.Contains("# what ran", StringComparison.Ordinal));
        var command = hint[..hint.IndexOf('#', StringComparison.Ordinal)].Trim();

        var result = await ShellCommand.RunAsync(_ws.PathOf("demo"), command, CascadeCli.Timeout);

        Assert.True(result.ExitCode == 0, $"the hint '{command}' does not work here:\n{result}");
    }

    [GeneratedRegex(@"^\s+(?<id>[A-Za-z_][A-Za-z0-9_]*)(?:\[/""[^""]*""/\]|\[""[^""]*""\])$")]
    private static partial Regex MermaidNode();

    [GeneratedRegex(@"^\s+(?<from>[A-Za-z_][A-Za-z0-9_]*) (?:-->|-\.->\|""[^""]*""\|) (?<to>[A-Za-z_][A-Za-z0-9_]*)$")]
    private static partial Regex MermaidEdge();

    [GeneratedRegex(@"^\s+""[^""\\]*"" \[label=""[^""\\]*""(?:, style=dashed)?\];$|^\s+""[^""\\]*"" -> ""[^""\\]*""(?: \[label=""[^""\\]*"", style=dashed\])?;$")]
    private static partial Regex DotStatement();

    public static TheoryData<string> Examples() => ["demo", "nightly", "s3"];

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Regression_8_16_graph_of_a_shipped_example_is_mermaid_with_safe_ids_and_quoted_labels(string example)
    {
        var folder = CopyExample(example);

        var result = (await CascadeCli.RunAsync(folder, "graph")).AssertExitCode(0);

        var lines = result.StdOut.TrimEnd().Split('\n');
        Assert.Equal("graph LR", lines[0]);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            if (MermaidNode().Match(line) is { Success: true } node)
            {
                Assert.True(ids.Add(node.Groups["id"].Value), $"node id defined twice: {line}");
            }
            else if (MermaidEdge().Match(line) is { Success: true } edge)
            {
                Assert.Contains(edge.Groups["from"].Value, ids);
                Assert.Contains(edge.Groups["to"].Value, ids);
            }
            else
            {
                Assert.Fail($"not a node with a quoted label nor an edge: '{line}'\n{result.StdOut}");
            }
        }

        Assert.Contains(lines, l => l.Contains("(external)\"", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Regression_8_16_graph_dot_of_a_shipped_example_quotes_every_id_and_label(string example)
    {
        var folder = CopyExample(example);

        var result = (await CascadeCli.RunAsync(folder, "graph", "--format", "dot")).AssertExitCode(0);

        var lines = result.StdOut.TrimEnd().Split('\n');
        Assert.Equal("digraph cascade {", lines[0]);
        Assert.Equal("}", lines[^1]);
        foreach (var line in lines.Skip(3).SkipLast(1))
        {
            Assert.True(DotStatement().IsMatch(line), $"not a quoted dot statement: '{line}'");
        }
    }

    /// <summary>The example's files in a fresh folder (graph needs only the pipeline file).</summary>
    private string CopyExample(string example)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var source = Path.Combine(dir.FullName, "examples", example, "cascade.yaml");
            if (File.Exists(Path.Combine(dir.FullName, "Cascade.slnx")) && File.Exists(source))
            {
                _ws.Write($"{example}/cascade.yaml", File.ReadAllText(source));
                return _ws.PathOf(example);
            }
        }

        throw new InvalidOperationException($"examples/{example} not found above {AppContext.BaseDirectory}");
    }
}
