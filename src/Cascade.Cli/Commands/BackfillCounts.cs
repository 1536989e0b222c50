namespace Cascade.Cli.Commands;

/// <summary>
/// A backfill's runs by state, each counted once; they add up to <see cref="Total"/>, which is known
/// before the backfill starts. <see cref="Waiting"/> runs are not active: nothing of the backfill
/// starts them until their inputs are done.
/// </summary>
internal readonly record struct BackfillCounts(int Total, int Succeeded, int Running, int Queued, int Waiting, int Failed, int TimedOut, int UpstreamFailed, int DoneBefore, int Cancelled = 0)
{
    public int Active => Running + Queued;

    public int Broken => Failed + TimedOut + UpstreamFailed;

    public int Finished => Succeeded + Broken;

    /// <summary>The progress line: "12/59 succeeded, 3 running, 2 queued, 1 failed, 41 waiting for inputs".</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"{Succeeded}/{Total} succeeded", $"{Running} running", $"{Queued} queued" };
        AddBroken(parts);
        if (Waiting > 0)
        {
            parts.Add($"{Waiting} waiting for inputs");
        }

        return string.Join(", ", parts);
    }

    /// <summary>The end: every run by its end state, and how many were done before this backfill.</summary>
    public string Summary()
    {
        var parts = new List<string> { $"{Succeeded} succeeded" + (DoneBefore > 0 ? $" ({DoneBefore} of them done before this backfill)" : string.Empty) };
        AddBroken(parts);
        if (Active > 0)
        {
            parts.Add($"{Active} still queued or running");
        }

        parts.Add($"{Waiting} waiting for inputs");
        return $"{string.Join(", ", parts)} — of {Total} run(s)";
    }

    private void AddBroken(List<string> parts)
    {
        parts.Add($"{Failed} failed" + (Cancelled > 0 ? $" ({Cancelled} cancelled)" : string.Empty));
        if (TimedOut > 0)
        {
            parts.Add($"{TimedOut} timed_out");
        }

        if (UpstreamFailed > 0)
        {
            parts.Add($"{UpstreamFailed} upstream_failed");
        }
    }
}
