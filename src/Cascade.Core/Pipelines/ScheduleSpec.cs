namespace Cascade.Core.Pipelines;

/// <summary>
/// When a root job starts by itself. A tick at time T runs the partition that contains T (in the
/// pipeline's time zone) moved by <see cref="PartitionOffset"/> partitions: with <c>-1</c>, the
/// 02:00 tick on the 13th runs the 12th.
/// </summary>
public sealed record ScheduleSpec(ISchedule Cron, int PartitionOffset, bool Catchup);
