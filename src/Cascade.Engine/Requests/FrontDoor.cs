namespace Cascade.Engine.Requests;

/// <summary>How a front door names the inputs of a request, so that a refusal names them as the user gave them.</summary>
public sealed record FrontDoor(string From, string To, string MaxParallel, string Force, string Job, string Partition, string Meta, string Param)
{
    public static readonly FrontDoor Cli = new("--from", "--to", "--max-parallel", "--force", "--job", "PARTITION", "--meta", "--param KEY=VALUE");

    public static readonly FrontDoor Api = new("from", "to", "max_parallel", "force", "jobs", "partition", "meta", "params");
}
