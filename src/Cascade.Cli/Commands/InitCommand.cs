using System.CommandLine;
using System.Reflection;

namespace Cascade.Cli.Commands;

internal static class InitCommand
{
    private const string Prefix = "demo/";

    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "Where to write the example (created if missing)", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing cascade.yaml" };
        var command = new Command("init", "Write a runnable example pipeline (player_entry → sessions, payments → revenue → bi_import)") { dir, force };
        command.SetAction(parse => CommandRunner.RunAsync(() =>
        {
            var target = Path.GetFullPath(parse.GetValue(dir)!);
            if (File.Exists(Path.Combine(target, "cascade.yaml")) && !parse.GetValue(force))
            {
                throw new CliException($"{Path.Combine(parse.GetValue(dir)!, "cascade.yaml")} already exists (use --force to overwrite)");
            }

            var assembly = Assembly.GetExecutingAssembly();
            var files = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order().ToList();
            foreach (var name in files)
            {
                var relative = name[Prefix.Length..];
                var path = Path.Combine(target, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using (var source = assembly.GetManifestResourceStream(name)!)
                using (var file = File.Create(path))
                {
                    source.CopyTo(file);
                }

                if (!OperatingSystem.IsWindows() && relative.EndsWith(".sh", StringComparison.Ordinal))
                {
                    File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
                }
            }

            Directory.CreateDirectory(Path.Combine(target, "markers"));
            var shown = parse.GetValue(dir)!;
            Console.WriteLine($"wrote an example pipeline to {shown} ({files.Count} files). Next:");
            Console.WriteLine($"  cd {shown} && cascade run --until-idle    # runs the chain for the days whose game logs have landed");
            Console.WriteLine("  cascade status                             # what ran");
            Console.WriteLine("  cascade why bi_import 20190312             # why a run did (not) start");
            return Task.FromResult(0);
        }));
        return command;
    }
}
