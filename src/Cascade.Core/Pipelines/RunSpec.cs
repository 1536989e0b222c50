namespace Cascade.Core.Pipelines;

/// <summary>How a job is activated: a closed set of kinds.</summary>
public abstract record RunSpec
{
    private RunSpec()
    {
    }

    /// <summary>An argv run as a process without a shell; every element may hold placeholders.</summary>
    public sealed record Command(IReadOnlyList<string> Argv) : RunSpec
    {
        /// <summary>Where the program (the first argument) was written, for errors about it.</summary>
        public SourceLocation Location { get; init; } = SourceLocation.None;
    }

    /// <summary>
    /// A remote job started by one HTTP request: a success status means "activated", and the run
    /// stays running until its marker appears (at most the job's <c>run_timeout</c>).
    /// </summary>
    public sealed record Http(HttpActivation Request) : RunSpec
    {
        public SourceLocation Location { get; init; } = SourceLocation.None;
    }

    /// <summary>Done by someone else: Cascade only tracks its markers and never starts it.</summary>
    public sealed record External : RunSpec;
}
