using System.Globalization;

namespace Cascade.Bench.Crash;

/// <summary>The command line of <c>crash</c>: <c>[--runs N] [--kills K] [--seed S] [--out FILE] [--keep]</c>.</summary>
internal sealed record CrashOptions
{
    public const string Usage = """
        Cascade.Bench crash: SIGKILLs `cascade run` at random moments over a generated DAG, restarts it
        each time, and checks what the spec promises across crashes (guarantees 2, 3 and 7)

        usage: dotnet run -c Release --project bench/Cascade.Bench -- crash [options]

          --runs N      command runs in the DAG (10 jobs x N/10 days; default 600, at least 300 for the record)
          --kills K     SIGKILLs of the scheduler before the last, undisturbed run to the end (default 40)
          --seed S      the random seed of the DAG and of the kill moments (default 8)
          --out FILE    where the JSON goes (default crash-results.json)
          --keep        keep the temp folder (pipeline, markers, state, activity log)

        exit 0 when every check held, 1 when one broke, 2 on a bad argument
        """;

    public int Runs { get; init; } = 600;

    public int Kills { get; init; } = 40;

    public int Seed { get; init; } = 8;

    public string Out { get; init; } = "crash-results.json";

    public bool Keep { get; init; }

    public static CrashOptions Parse(IReadOnlyList<string> args)
    {
        var options = new CrashOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number(int min)
            {
                var name = args[i];
                var text = Value();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
                    ? n
                    : throw new ArgumentException($"{name} must be a whole number of {min} or more, not '{text}'");
            }

            options = args[i] switch
            {
                "--runs" => options with { Runs = Number(10) },
                "--kills" => options with { Kills = Number(0) },
                "--seed" => options with { Seed = Number(0) },
                "--out" => options with { Out = Value() },
                "--keep" => options with { Keep = true },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        return options;
    }
}
