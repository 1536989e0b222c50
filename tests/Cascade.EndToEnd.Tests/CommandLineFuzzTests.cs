using System.Text.RegularExpressions;
using Cascade.EndToEnd.Tests.Support;
using CsCheck;

namespace Cascade.EndToEnd.Tests;

/// <summary>
/// Issue 8, done-when 1 (command lines): random command lines built from the real commands and
/// options with hostile values — empty, very long, odd Unicode, <c>..</c>, paths that do not
/// exist, devices, dates out of range, bad numbers — each run as a real <c>cascade</c> process in a
/// fresh folder. Every one exits 0 or 1 with, on failure, a message and never a stack trace.
/// (A NUL cannot reach a process's argv; it is refused in-process by the option parsing.)
/// </summary>
public sealed partial class CommandLineFuzzTests
{
    /// <summary>48 per run (about 30 s on 2 cores); CASCADE_FUZZ_CASES=N for a longer campaign.</summary>
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("CASCADE_FUZZ_CASES"), out var n) && n > 0 ? n : 48;

    private const string Pipeline = """
        jobs:
          upstream:
            run: external
            start: 2019-03-01
          down:
            after: [upstream, { job: down, offset: -1 }]
            run: { command: [sh, -c, "exit 0"] }
        """;

    private static readonly string[] Hostile =
    [
        "", " ", "-", "--", "=", "..", "../..", "/", ".", "/nonexistent/x.yaml", "/dev/null", "/dev/zero", "/proc/self/mem",
        "\u2028", "\u202Ed", "é", "\U0001F600", "a\nb", "\t", "%s%n", "$(id)", "'\"", "*", new string('x', 5000), new string('é', 300),
        "-1", "0", "2147483648", "99999999999999999999", "1e9", "NaN",
        // Out of the calendar, out of the supported range (1900..2999) and at DateTime's own edges.
        "00010101", "0001-01-01", "99991231", "9999-12-31", "9999123123", "99991230..99991231", "18991231", "30000101", "2999123123",
        "0000-00-00", "20191345", "2019-02-29", "2019022924", "2019-03-12T25", "19700101", "00020101", "99980101", "2019-3-1", "２０１９0312",
        "k=", "=v", "k=v", "k==v", "1k=v", "k=\u2028", "params=x",
    ];

    private static readonly string[] RunFlags = ["--until-idle", "--no-web"];
    private static readonly string[] Jobs = ["down", "upstream", "nope", "DOWN", "down__x"];
    private static readonly string[] Partitions = ["20190312", "2019-03-12", "2019031205", "2019-03-11"];

    [GeneratedRegex(@"(?m)^\s+at \S+.*\)|Unhandled exception|internal error \(please report it\):|   at System\.")]
    private static partial Regex CrashSign();

    /// <summary>Exit 0, 1 (refused) or 2 (bad usage); on 1 or 2 a message on stderr; nothing that looks like a crash.</summary>
    internal static void AssertNoCrash(CliResult result, string what = "")
    {
        Assert.True(result.ExitCode is 0 or 1 or 2, $"{what}: exit code {result.ExitCode}\n{result}");
        Assert.False(CrashSign().IsMatch(result.StdErr + result.StdOut), $"{what}: looks like a crash\n{result}");
        if (result.ExitCode is 1 or 2)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.StdErr), $"{what}: exit {result.ExitCode} without a message\n{result}");
        }
    }

    private static Gen<string> OneOf(string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static Gen<string> Value(string[] usual) => Gen.Frequency((2, OneOf(usual)), (3, OneOf(Hostile)));

    private static Gen<string[]> Options(params (string Name, Gen<string>? Value)[] options) =>
        Gen.Int[0, (1 << options.Length) - 1].SelectMany(mask =>
        {
            var chosen = options.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
            return chosen.Length == 0
                ? Gen.Const(Array.Empty<string>())
                : Gen.Select(chosen.Select(o => o.Value ?? Gen.Const(string.Empty)).ToArray().Aggregate(
                    Gen.Const(Array.Empty<string>()),
                    (acc, g) => Gen.Select(acc, g, (a, v) => a.Append(v).ToArray())),
                    values => chosen.SelectMany((o, i) => o.Value is null ? new[] { o.Name } : new[] { o.Name, values[i] }).ToArray());
        });

    private static Gen<string[]> Positional(int count, params string[][] usual) =>
        count == 0 ? Gen.Const(Array.Empty<string>()) : Gen.Select(Value(usual[0]), count == 2 ? Value(usual[1]) : Gen.Const(string.Empty), (a, b) => count == 2 ? new[] { a, b } : new[] { a });

    private static Gen<string[]> CommandLine()
    {
        var job = Jobs;
        var part = Partitions;
        var number = new[] { "1", "2", "8" };
        var date = new[] { "2019-03-01", "2019-03-02", "20190312" };
        var kv = new[] { "region=us", "rows=5" };
        var file = Gen.Frequency((4, Gen.Const("cascade.yaml")), (1, OneOf(Hostile)));
        Gen<string[]> With(string name, Gen<string[]> rest) => Gen.Select(file, rest, (f, r) => new[] { name }.Concat(r).Concat(["-f", f]).ToArray());
        var run = With("run", Options(("-j", Value(number)), ("--shutdown-grace", Value(["1s", "30s"])), ("--quiet", null)).Select(o => RunFlags.Concat(o).ToArray()));
        var done = With("done", Gen.Select(Positional(2, job, part), Options(("--meta", Value(kv)), ("--param", Value(kv)), ("--force", null)), (p, o) => p.Concat(o).ToArray()));
        var trigger = With("trigger", Gen.Select(Positional(2, job, part), Options(("--param", Value(kv))), (p, o) => p.Concat(o).ToArray()));
        var status = With("status", Options(("--partition", Value(part)), ("--job", Value(job)), ("--state", Value(["failed", "succeeded", "waiting"])), ("--json", null)));
        var why = With("why", Positional(2, job, part));
        var logs = With("logs", Gen.Select(Positional(2, job, part), Options(("--attempt", Value(number))), (p, o) => p.Concat(o).ToArray()));
        var replay = With("replay", Gen.Select(Positional(2, job, part), Options(("--downstream", null), ("--dry-run", null), ("--force", null)), (p, o) => p.Concat(o).ToArray()));
        var backfill = With("backfill", Gen.Select(Value(date), Value(date), Options(("--job", Value(job)), ("-j", Value(number))), (from, to, o) => new[] { "--from", from, "--to", to, "--detach" }.Concat(o).ToArray()));
        var cancel = With("cancel", Gen.Frequency((3, Positional(2, job, part)), (1, Value(["bf1"]).Select(b => new[] { "--backfill", b }))));
        var history = With("history", Gen.Select(Positional(2, job, part), Options(("--events", null)), (p, o) => p.Concat(o).ToArray()));
        var graph = With("graph", Options(("--format", Value(["mermaid", "dot"]))));
        var validate = With("validate", Gen.Const(Array.Empty<string>()));
        var safeDir = OneOf(Hostile.Where(h => !h.Contains("..", StringComparison.Ordinal) && !h.StartsWith('/') && !h.StartsWith('-')).ToArray()).Select(h => "w/" + h);
        var init = Gen.Select(safeDir, Options(("--force", null)), (d, o) => new[] { "init", d }.Concat(o).ToArray());
        return Gen.OneOf(run, done, trigger, status, why, logs, replay, backfill, cancel, history, graph, validate, init);
    }

    [Fact]
    public async Task Random_hostile_command_lines_exit_0_1_or_2_with_a_message_and_never_a_stack_trace()
    {
        var seed = (ulong)Random.Shared.NextInt64();
        var pcg = new PCG(1, seed);
        var generator = CommandLine();
        var lines = Enumerable.Range(0, Cases).Select(_ => generator.Generate(pcg, null, out Size _)).ToList();
        using var gate = new SemaphoreSlim(2);
        var failures = new List<string>();
        await Task.WhenAll(lines.Select(async args =>
        {
            await gate.WaitAsync();
            try
            {
                using var ws = new TempWorkspace();
                ws.Write("cascade.yaml", Pipeline);
                ws.Write("markers/upstream__20190311.done", string.Empty);
                var result = await CascadeCli.RunAsync(ws.Root, args);
                try
                {
                    AssertNoCrash(result, $"cascade {string.Join(' ', args.Select(a => "'" + (a.Length > 40 ? a[..40] + "…" : a) + "'"))}");
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} of {Cases} command lines crashed:\n{string.Join("\n\n", failures.Take(5))}");
    }
}
