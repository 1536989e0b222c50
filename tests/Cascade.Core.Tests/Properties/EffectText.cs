using System.Globalization;
using Cascade.Core.Scheduling;
using static Cascade.Core.Scheduling.SchedulerEffect;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// Effects as text with every field, so two runs of the scheduler can be compared exactly
/// (records holding dictionaries compare them by reference).
/// </summary>
internal static class EffectText
{
    public static string Batch(IEnumerable<SchedulerEffect> effects) => string.Join(Environment.NewLine, effects.Select(Describe));

    public static string Describe(SchedulerEffect effect) => effect switch
    {
        RunChanged c => Invariant($"changed {Describe(c.Run)} event={c.Event} detail={c.Detail}"),
        StartRun s => Invariant(
            $"start {s.Activation.Key} g{s.Activation.Generation} a{s.Activation.Attempt} id={s.Activation.RunId} argv=[{string.Join(" ", s.Activation.Argv)}] values={Map(s.Activation.Values)} params={Map(s.Activation.Params)}"),
        Warning w => "warning " + w.Message,
        _ => effect.ToString(),
    };

    public static string Describe(Run r) =>
        Invariant($"{r.Key} g{r.Generation} {r.State} a{r.Attempt} f{r.Failures} created={r.CreatedAt:O} queued={r.QueuedAt:O} activated={r.ActivatedAt:O} ")
        + Invariant($"started={r.StartedAt:O} finished={r.FinishedAt:O} next={r.NextRetryAt:O} cause={r.Cause} params={Map(r.Params)} trigger={Map(r.TriggerParams)} ")
        + Invariant($"marker={r.Marker?.ToJson()}|{r.Marker?.Warning} exit={r.ExitCode} reason={r.Reason} warnings=[{string.Join("; ", r.Warnings)}]");

    private static string Map(IReadOnlyDictionary<string, string> map) => string.Join(",", map.Select(kv => kv.Key + "=" + kv.Value));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
