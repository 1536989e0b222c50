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
            var shown = parse.GetValue(dir)!;
            var target = Workspace.FullPath(shown, "DIR");
            CheckTarget(shown, target, parse.GetValue(force));
            var assembly = Assembly.GetExecutingAssembly();
            var files = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order().ToList();
            try
            {
                foreach (var name in files)
                {
                    Write(assembly, name, Path.Combine(target, name[Prefix.Length..]));
                }

                Directory.CreateDirectory(Path.Combine(target, "markers"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot write the example to {shown}: {e.Message}");
            }

            var cascade = SelfCommand.Text();
            var cd = Path.GetFullPath(shown) == Environment.CurrentDirectory ? string.Empty : $"cd {SelfCommand.Shell(shown)} && ";
            Console.WriteLine($"wrote an example pipeline to {shown} ({files.Count} files). Next:");
            Console.WriteLine($"  {cd}{cascade} run --until-idle    # runs the chain for the days whose game logs have landed");
            Console.WriteLine($"  {cascade} status                  # what ran");
            Console.WriteLine($"  {cascade} why bi_import 20190312  # why a run did (not) start");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Refuses, before writing anything, a target that is a file, too long, or holds a pipeline already.</summary>
    private static void CheckTarget(string shown, string target, bool force)
    {
        if (File.Exists(target))
        {
            throw new CliException($"{shown} is a file; init writes a folder (give a folder that does not exist yet, or an empty one)");
        }

        if (Path.GetFileName(target.TrimEnd(Path.DirectorySeparatorChar)).Length > 255)
        {
            throw new CliException($"the folder name is {Path.GetFileName(target).Length} characters long; the most a file system allows is 255");
        }

        var pipeline = Path.Combine(target, "cascade.yaml");
        if (Directory.Exists(pipeline))
        {
            throw new CliException($"{Path.Combine(shown, "cascade.yaml")} is a folder; init cannot write the pipeline file there");
        }

        if (File.Exists(pipeline) && !force)
        {
            throw new CliException($"{Path.Combine(shown, "cascade.yaml")} already exists (use --force to overwrite)");
        }
    }

    private static void Write(Assembly assembly, string name, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var source = assembly.GetManifestResourceStream(name)!)
        using (var file = File.Create(path))
        {
            source.CopyTo(file);
        }

        if (!OperatingSystem.IsWindows() && path.EndsWith(".sh", StringComparison.Ordinal))
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
    }
}
