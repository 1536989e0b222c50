using Cascade.Core.Pipelines;

namespace Cascade.Web.Api;

/// <summary>
/// A layered (Sugiyama-style) layout of the pipeline's jobs, computed once per pipeline. Each job's
/// layer is the longest path to it from a root over same-partition inputs (offset 0), so every such
/// edge points to a later layer. An edge that spans several layers passes through one waypoint in
/// each layer between (a dummy node that takes a slot there), so it is drawn around the jobs it
/// passes, not through them. The order within a layer comes from barycenter sweeps (down, then up,
/// a few times), which keeps crossings low. Offset inputs (yesterday's run) do not shape the layers
/// (they may point back, e.g. a job after itself); they are drawn as extra edges. Deterministic:
/// ties keep the pipeline file's order.
/// </summary>
internal sealed class DagLayout
{
    private const int Sweeps = 6;

    private DagLayout(IReadOnlyDictionary<string, Slot> positions, IReadOnlyDictionary<(string From, string To), IReadOnlyList<Slot>> waypoints, IReadOnlyList<int> layerSizes)
    {
        Positions = positions;
        Waypoints = waypoints;
        LayerSizes = layerSizes;
    }

    /// <summary>A place in the layout: the layer (0 = roots, left) and the order in it (0 = top).</summary>
    public readonly record struct Slot(int Layer, int Order);

    /// <summary>Each job's slot.</summary>
    public IReadOnlyDictionary<string, Slot> Positions { get; }

    /// <summary>The waypoints of each same-partition edge that spans more than one layer, in layer order.</summary>
    public IReadOnlyDictionary<(string From, string To), IReadOnlyList<Slot>> Waypoints { get; }

    /// <summary>How many slots (jobs and waypoints) each layer has.</summary>
    public IReadOnlyList<int> LayerSizes { get; }

    public int Layers => LayerSizes.Count;

    /// <summary>The most slots in one layer.</summary>
    public int Width => LayerSizes.Count == 0 ? 0 : LayerSizes.Max();

    public static DagLayout Of(Pipeline pipeline)
    {
        var jobs = pipeline.Jobs;
        var index = jobs.Select((j, i) => (j.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var direct = jobs.Select(j => j.After.Where(d => d.Offset == 0 && d.Job != j.Name && index.ContainsKey(d.Job)).Select(d => index[d.Job]).Distinct().ToArray()).ToArray();
        var layerOf = new List<int>(new int[jobs.Count]);
        var done = new bool[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            LayerOf(i, direct, layerOf, done, new bool[jobs.Count]);
        }

        // Nodes 0..jobs-1 are the jobs; the rest are waypoints of long edges. ups[n]: the nodes one layer before n that link to it.
        var ups = Enumerable.Range(0, jobs.Count).Select(_ => new List<int>()).ToList();
        var chains = new List<(string From, string To, List<int> Nodes)>();
        for (var to = 0; to < jobs.Count; to++)
        {
            foreach (var from in direct[to])
            {
                var previous = from;
                var chain = new List<int>();
                for (var l = layerOf[from] + 1; l < layerOf[to]; l++)
                {
                    var dummy = layerOf.Count;
                    layerOf.Add(l);
                    ups.Add([previous]);
                    chain.Add(dummy);
                    previous = dummy;
                }

                ups[to].Add(previous);
                if (chain.Count > 0)
                {
                    chains.Add((jobs[from].Name, jobs[to].Name, chain));
                }
            }
        }

        var count = layerOf.Count;
        var downs = Enumerable.Range(0, count).Select(_ => new List<int>()).ToArray();
        for (var n = 0; n < count; n++)
        {
            foreach (var u in ups[n])
            {
                downs[u].Add(n);
            }
        }

        var layers = jobs.Count == 0 ? 0 : layerOf.Max() + 1;
        var rows = Enumerable.Range(0, layers).Select(l => Enumerable.Range(0, count).Where(n => layerOf[n] == l).ToList()).ToArray();
        var order = new double[count];
        Renumber(rows, order);
        var upArrays = ups.Select(u => u.ToArray()).ToArray();
        var downArrays = downs.Select(d => d.ToArray()).ToArray();
        for (var sweep = 0; sweep < Sweeps; sweep++)
        {
            for (var l = 1; l < layers; l++)
            {
                Sort(rows[l], upArrays, order);
                Renumber(rows, order);
            }

            for (var l = layers - 2; l >= 0; l--)
            {
                Sort(rows[l], downArrays, order);
                Renumber(rows, order);
            }
        }

        var positions = new Dictionary<string, Slot>(StringComparer.Ordinal);
        for (var i = 0; i < jobs.Count; i++)
        {
            positions[jobs[i].Name] = new Slot(layerOf[i], (int)order[i]);
        }

        var waypoints = chains.ToDictionary(c => (c.From, c.To), c => (IReadOnlyList<Slot>)c.Nodes.Select(n => new Slot(layerOf[n], (int)order[n])).ToList());
        return new DagLayout(positions, waypoints, rows.Select(r => r.Count).ToList());
    }

    /// <summary>The longest path from a root (memoised; the pipeline is validated acyclic over offset-0 inputs, and a cycle is cut if met).</summary>
    private static int LayerOf(int i, int[][] ups, List<int> layer, bool[] done, bool[] onPath)
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

    /// <summary>Orders a layer by the mean position of its neighbours in the adjacent layer; a node without any keeps its place.</summary>
    private static void Sort(List<int> row, int[][] neighbours, double[] order)
    {
        var keys = row.ToDictionary(n => n, n => neighbours[n].Length == 0 ? order[n] : neighbours[n].Average(m => order[m]));
        var sorted = row.OrderBy(n => keys[n]).ThenBy(n => order[n]).ToList();
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
