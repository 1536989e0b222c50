using CsCheck;

namespace Cascade.Core.Tests.Properties;

/// <summary>
/// A fixed, repeatable sample of a generator. The property tests draw fresh random cases on every
/// run; the tests that check the generator itself (does it really produce restarts, kills, old
/// markers?) count over this fixed sample instead, so their counts are the same on every machine
/// and a run of bad luck cannot fail them.
/// </summary>
internal static class FixedSample
{
    public static IReadOnlyList<T> Of<T>(Gen<T> gen, int count, ulong seed = 20190312)
    {
        var pcg = new PCG(1, seed);
        var cases = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            cases.Add(gen.Generate(pcg, null, out _));
        }

        return cases;
    }
}
