using Cascade.Core.Pipelines;

namespace Cascade.Web.Api;

/// <summary>
/// A layered (Sugiyama-style) layout of the pipeline's jobs, computed once per pipeline: each job's
/// layer is the longest path to it from a root over same-partition inputs (offset 0), so every such
/// edge points to a later layer; the order within a layer comes from barycenter sweeps (down, then
/// up, a few times), which keeps edge crossings low. Offset inputs (yesterday's run) are drawn as
/// extra edges and do not shape the layers (they may point back, e.g. a job after itself).
/// Deterministic: ties keep the pipeline file's order.
/// </summary>
internal sealed class DagLayout
{
    private const int Sweeps = 4;

    private DagLayout(IReadOnlyDictionary<string, (int Layer, int Order)> positions, int layers, int width)
    {
        Positions = positions;
        Layers = layers;
        Width = width;
    }

    /// <summary>Each job's layer (0 = roots) and its order within the layer (0 = top).</summary>
    public IReadOnlyDictionary<string, (int Layer, int Order)> Positions { get; }

    public int Layers { get; }

    /// <summary>The most jobs in one layer.</summary>
    public int Width { get; }

    public static DagLayout Of(Pipeline pipeline)
    {
        var jobs = pipeline.Jobs;
        var index = jobs.Select((j, i) => (j.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var ups = jobs.Select(j => j.After.Where(d => d.Offset == 0 && d.Job != j.Name && index.ContainsKey(d.Job)).Select(d => index[d.Job]).Distinct().ToArray()).ToArray();
        var downs = Enumerable.Range(0, jobs.Count).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < jobs.Count; i++)
        {
            foreach (var u in ups[i])
            {
                downs[u].Add(i);
            }
        }

        var layer = new int[jobs.Count];
        var done = new bool[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            LayerOf(i, ups, layer, done, new bool[jobs.Count]);
        }

        var layers = jobs.Count == 0 ? 0 : layer.Max() + 1;
        var rows = Enumerable.Range(0, layers).Select(l => Enumerable.Range(0, jobs.Count).Where(i => layer[i] == l).ToList()).ToArray();
        var order = new double[jobs.Count];
        Renumber(rows, order);
        for (var sweep = 0; sweep < Sweeps; sweep++)
        {
            for (var l = 1; l < layers; l++)
            {
                Sort(rows[l], ups, order);
                Renumber(rows, order);
            }

            for (var l = layers - 2; l >= 0; l--)
            {
                Sort(rows[l], downs.Select(d => d.ToArray()).ToArray(), order);
                Renumber(rows, order);
            }
        }

        var positions = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            for (var o = 0; o < row.Count; o++)
            {
                positions[jobs[row[o]].Name] = (layer[row[o]], o);
            }
        }

        return new DagLayout(positions, layers, rows.Length == 0 ? 0 : rows.Max(r => r.Count));
    }

    /// <summary>The longest path from a root (memoised; the pipeline is validated acyclic over offset-0 inputs, and a cycle is cut if met).</summary>
    private static int LayerOf(int i, int[][] ups, int[] layer, bool[] done, bool[] onPath)
    {
        if (done[i] || onPath[i])
        {
            return layer[i];
        }

        onPath[i] = true;
        var l = 0;
        foreach (var u in ups[i])
        {
            l = Math.Max(l, LayerOf(u, ups, layer, done, onPath) + 1);
        }

        onPath[i] = false;
        layer[i] = l;
        done[i] = true;
        return l;
    }

    /// <summary>Orders a layer by the mean position of its neighbours in the adjacent layer; a job without any keeps its place.</summary>
    private static void Sort(List<int> row, int[][] neighbours, double[] order)
    {
        var keys = row.ToDictionary(i => i, i => neighbours[i].Length == 0 ? order[i] : neighbours[i].Average(n => order[n]));
        var sorted = row.OrderBy(i => keys[i]).ThenBy(i => order[i]).ToList();
        row.Clear();
        row.AddRange(sorted);
    }

    private static void Renumber(List<int>[] rows, double[] order)
    {
        foreach (var row in rows)
        {
            for (var o = 0; o < row.Count; o++)
            {
                order[row[o]] = o;
            }
        }
    }
}
