namespace Cascade.Browser.Tests.Support;

/// <summary>The repository the tests run from (the folder holding Cascade.slnx), for docs/images.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cascade.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Cascade.slnx above {AppContext.BaseDirectory}");
    }
}
