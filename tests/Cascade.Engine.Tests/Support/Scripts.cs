namespace Cascade.Engine.Tests.Support;

/// <summary>Small job scripts the integration tests run as real processes (POSIX sh).</summary>
internal static class Scripts
{
    /// <summary>Appends "JOB PARTITION args…" to runs.log and exits 0 (Cascade then writes the marker).</summary>
    public const string Record = """
        #!/bin/sh
        echo "$CASCADE_JOB $CASCADE_PARTITION $*" >> runs.log
        """;

    /// <summary>Sleeps $1 seconds, then records itself.</summary>
    public const string SleepThenRecord = """
        #!/bin/sh
        sleep "$1"
        echo "$CASCADE_JOB $CASCADE_PARTITION" >> runs.log
        """;

    /// <summary>Fails (exit 3) until it has run $1 times for this partition, then succeeds.</summary>
    public const string FailTimes = """
        #!/bin/sh
        n=$(cat "count.$CASCADE_PARTITION" 2>/dev/null || echo 0)
        n=$((n + 1))
        echo "$n" > "count.$CASCADE_PARTITION"
        echo "attempt $n of $CASCADE_JOB"
        if [ "$n" -le "$1" ]; then echo "failing on purpose" >&2; exit 3; fi
        echo "$CASCADE_JOB $CASCADE_PARTITION" >> runs.log
        """;
}
