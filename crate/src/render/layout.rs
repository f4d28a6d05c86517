//! Automatic layered layout for nets whose file carries no positions.
//!
//! A simplified Sugiyama layout, deterministic and O((V + E) log E) per sweep:
//!
//! 1. **Cycles are broken** by a depth-first search whose roots are taken in a
//!    fixed order (nodes without inputs first, then places holding initial
//!    tokens, then everything else, each by index); the back edges it finds
//!    are ignored for layering.
//! 2. **Longest-path layering**: a node's layer is one more than the deepest of
//!    its predecessors, so every arc of the acyclic part points left to right.
//! 3. **Crossing reduction**: alternating down and up barycenter sweeps order
//!    the nodes inside each layer; the ordering with the fewest crossings
//!    between adjacent layers (counted with a Fenwick tree) is kept.
//! 4. **Coordinates**: layers are at least `LAYER_GAP` apart horizontally,
//!    more when the labels of two neighbouring layers are wide; the nodes of a
//!    layer are `ROW_GAP` apart vertically and centred on the tallest layer.
//!    Two nodes never share a position.

use crate::model::Model;

/// Least horizontal distance between two layers.
pub const LAYER_GAP: i32 = 100;
/// Estimated width of one label character (as drawn at 11px).
const CHAR_WIDTH: usize = 7;
/// Space kept between the labels of neighbouring layers.
const LABEL_GAP: usize = 12;
/// Vertical distance between two nodes of one layer.
pub const ROW_GAP: i32 = 70;
/// Position of the first layer's first row.
const ORIGIN: i32 = 50;
/// Barycenter sweeps (each one down and one up).
const SWEEPS: usize = 6;

/// Computes positions for every node of `model`: places first (in
/// [`Model::places`] order), then transitions (in [`Model::transitions`]
/// order). Deterministic: the same model always gets the same positions.
///
/// ```
/// use petrichain::{formats::json::import_json, render::layout};
/// let (model, _) = import_json(r#"{
///   "places": [{"id": "a"}, {"id": "b"}],
///   "transitions": [{"id": "t"}],
///   "arcs": [{"source": "a", "target": "t"}, {"source": "t", "target": "b"}]
/// }"#).unwrap();
/// let pos = layout(&model); // a, b, then t
/// assert!(pos[0].0 < pos[2].0 && pos[2].0 < pos[1].0); // a -> t -> b, left to right
/// ```
pub fn layout(model: &Model) -> Vec<(i32, i32)> {
    let places = model.places().len();
    let n = places + model.transitions().len();
    if n == 0 {
        return Vec::new();
    }
    let node = |id: &str| {
        model
            .place_index(id)
            .or_else(|| model.transition_index(id).map(|t| places + t))
    };
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for arc in model.arcs() {
        if let (Some(s), Some(t)) = (node(&arc.source), node(&arc.target)) {
            if s != t {
                succ[s].push(t);
            }
        }
    }
    for list in &mut succ {
        list.sort_unstable();
        list.dedup();
    }
    let has_tokens: Vec<bool> = (0..n)
        .map(|v| v < places && model.places()[v].initial > 0)
        .collect();
    let (dag, discovery) = break_cycles(&succ, &has_tokens);
    let layer = longest_path_layers(&dag);
    let layers = order_layers(&dag, &layer, &discovery);
    let label_width: Vec<usize> = model
        .places()
        .iter()
        .map(|p| if p.label.is_empty() { &p.id } else { &p.label })
        .chain(
            model
                .transitions()
                .iter()
                .map(|t| if t.label.is_empty() { &t.id } else { &t.label }),
        )
        .map(|s| s.chars().count().saturating_mul(CHAR_WIDTH))
        .collect();
    coordinates(&layers, &label_width)
}

/// Depth-first search from deterministic roots. Returns the graph without its
/// back edges (hence acyclic) and the order in which nodes were discovered.
fn break_cycles(succ: &[Vec<usize>], has_tokens: &[bool]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let n = succ.len();
    let mut indegree = vec![0usize; n];
    for list in succ {
        for &t in list {
            indegree[t] += 1;
        }
    }
    let roots = (0..n)
        .filter(|&v| indegree[v] == 0)
        .chain((0..n).filter(|&v| indegree[v] > 0 && has_tokens[v]))
        .chain((0..n).filter(|&v| indegree[v] > 0 && !has_tokens[v]));
    // 0 = unseen, 1 = on the DFS stack, 2 = finished.
    let mut state = vec![0u8; n];
    let mut dag: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut discovery = Vec::with_capacity(n);
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        discovery.push(root);
        stack.push((root, 0));
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&w) = succ[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        dag[v].push(w);
                        state[w] = 1;
                        discovery.push(w);
                        stack.push((w, 0));
                    }
                    1 => {} // back edge: dropped, this is what breaks the cycle
                    _ => dag[v].push(w),
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    (dag, discovery)
}

/// Layer of each node: 0 for nodes without predecessors, else one more than
/// the deepest predecessor (Kahn's topological order).
fn longest_path_layers(dag: &[Vec<usize>]) -> Vec<usize> {
    let n = dag.len();
    let mut indegree = vec![0usize; n];
    for list in dag {
        for &t in list {
            indegree[t] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    let mut head = 0;
    while let Some(&v) = queue.get(head) {
        head += 1;
        for &w in &dag[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                queue.push(w);
            }
        }
    }
    // A source would otherwise sit in layer 0 however deep its successors
    // are; move it next to the nearest one to keep its arcs short.
    let mut has_pred = vec![false; n];
    for list in dag {
        for &t in list {
            has_pred[t] = true;
        }
    }
    for v in 0..n {
        if !has_pred[v] {
            if let Some(nearest) = dag[v].iter().map(|&w| layer[w]).min() {
                layer[v] = nearest.saturating_sub(1);
            }
        }
    }
    layer
}

/// Groups nodes by layer (initially in discovery order) and reorders each
/// layer with barycenter sweeps, keeping the best ordering seen.
fn order_layers(dag: &[Vec<usize>], layer: &[usize], discovery: &[usize]) -> Vec<Vec<usize>> {
    let n = dag.len();
    let depth = layer.iter().max().map_or(0, |&d| d + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for &v in discovery {
        layers[layer[v]].push(v);
    }
    // Undirected neighbours split into those in lower and higher layers.
    let mut lower: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut upper: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (v, list) in dag.iter().enumerate() {
        for &w in list {
            // In the DAG a successor always lies in a higher layer.
            upper[v].push(w);
            lower[w].push(v);
        }
    }
    // Adjacent-layer edges, used to count crossings.
    let short: Vec<(usize, usize)> = dag
        .iter()
        .enumerate()
        .flat_map(|(v, list)| list.iter().map(move |&w| (v, w)))
        .filter(|&(v, w)| layer[w] == layer[v] + 1)
        .collect();

    let mut pos = vec![0f64; n];
    let mut rank = vec![0usize; n];
    set_positions(&layers, &mut pos, &mut rank);
    let mut best = layers.clone();
    let mut best_crossings = crossings(&short, &layers, &rank, layer);
    for _ in 0..SWEEPS {
        if best_crossings == 0 {
            break;
        }
        for l in layers.iter_mut().skip(1) {
            sweep(l, &lower, &mut pos);
        }
        for l in layers.iter_mut().rev().skip(1) {
            sweep(l, &upper, &mut pos);
        }
        set_positions(&layers, &mut pos, &mut rank);
        let c = crossings(&short, &layers, &rank, layer);
        if c < best_crossings {
            best_crossings = c;
            best = layers.clone();
        }
    }
    best
}

/// Centred position (index minus half the layer width) and plain index of each node.
fn set_positions(layers: &[Vec<usize>], pos: &mut [f64], rank: &mut [usize]) {
    for l in layers {
        let half = (l.len() as f64 - 1.0) / 2.0;
        for (i, &v) in l.iter().enumerate() {
            pos[v] = i as f64 - half;
            rank[v] = i;
        }
    }
}

/// Orders one layer by the mean position of each node's neighbours on the
/// side being swept from; a node without such neighbours keeps its position.
fn sweep(layer: &mut [usize], neighbours: &[Vec<usize>], pos: &mut [f64]) {
    let mut keyed: Vec<(f64, usize, usize)> = layer
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ns = &neighbours[v];
            let key = if ns.is_empty() {
                pos[v]
            } else {
                ns.iter().map(|&u| pos[u]).sum::<f64>() / ns.len() as f64
            };
            (key, i, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let half = (keyed.len() as f64 - 1.0) / 2.0;
    for (i, (_, _, v)) in keyed.into_iter().enumerate() {
        layer[i] = v;
        pos[v] = i as f64 - half;
    }
}

/// Crossings among edges between adjacent layers: per layer pair, sort edges
/// by upper end and count inversions of the lower ends with a Fenwick tree.
fn crossings(
    short: &[(usize, usize)],
    layers: &[Vec<usize>],
    rank: &[usize],
    layer: &[usize],
) -> u64 {
    let mut by_layer: Vec<Vec<(usize, usize)>> = vec![Vec::new(); layers.len()];
    for &(v, w) in short {
        by_layer[layer[v]].push((rank[v], rank[w]));
    }
    let mut total = 0u64;
    for (i, mut edges) in by_layer.into_iter().enumerate() {
        if edges.len() < 2 {
            continue;
        }
        edges.sort_unstable();
        let size = layers.get(i + 1).map_or(0, Vec::len);
        let mut tree = vec![0u64; size + 1];
        for (seen, &(_, w)) in edges.iter().enumerate() {
            // Edges seen so far that end strictly right of w cross this one.
            let mut not_greater = 0u64;
            let mut k = w + 1;
            while k > 0 {
                not_greater += tree[k];
                k &= k - 1;
            }
            total += seen as u64 - not_greater;
            let mut k = w + 1;
            while k <= size {
                tree[k] += 1;
                k += k & k.wrapping_neg();
            }
        }
    }
    total
}

/// Turns layers into coordinates, each layer centred on the tallest one and
/// far enough from the previous one for both layers' widest labels.
fn coordinates(layers: &[Vec<usize>], label_width: &[usize]) -> Vec<(i32, i32)> {
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![(ORIGIN, ORIGIN); label_width.len()];
    let widest = |l: &Vec<usize>| l.iter().map(|&v| label_width[v]).max().unwrap_or(0);
    let mut x = ORIGIN;
    let mut previous_width = 0;
    for (i, l) in layers.iter().enumerate() {
        let width = widest(l);
        if i > 0 {
            let needed = (previous_width + width) / 2 + LABEL_GAP;
            x = x.saturating_add(LAYER_GAP.max(clamp(needed)));
        }
        previous_width = width;
        // Offset in half rows, so the centring stays exact in integers.
        let offset = clamp(tallest - l.len()).saturating_mul(ROW_GAP) / 2;
        for (j, &v) in l.iter().enumerate() {
            let y = ORIGIN
                .saturating_add(offset)
                .saturating_add(clamp(j).saturating_mul(ROW_GAP));
            out[v] = (x, y);
        }
    }
    out
}

fn clamp(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_broken_and_layered() {
        // 0 -> 1 -> 2 -> 0, node 0 holds tokens.
        let succ = vec![vec![1], vec![2], vec![0]];
        let (dag, discovery) = break_cycles(&succ, &[true, false, false]);
        assert_eq!(discovery, vec![0, 1, 2]);
        assert_eq!(dag, vec![vec![1], vec![2], vec![]]);
        assert_eq!(longest_path_layers(&dag), vec![0, 1, 2]);
    }

    #[test]
    fn longest_path_puts_a_node_after_its_deepest_predecessor() {
        // 0 -> 1 -> 2 and 0 -> 2: node 2 sits in layer 2, not 1.
        let dag = vec![vec![1, 2], vec![2], vec![]];
        assert_eq!(longest_path_layers(&dag), vec![0, 1, 2]);
    }

    #[test]
    fn crossings_are_counted() {
        // Layer 0: a b; layer 1: c d; a -> d and b -> c cross once.
        let layers = vec![vec![0, 1], vec![2, 3]];
        let layer = vec![0, 0, 1, 1];
        let rank = vec![0, 1, 0, 1];
        assert_eq!(crossings(&[(0, 3), (1, 2)], &layers, &rank, &layer), 1);
        assert_eq!(crossings(&[(0, 2), (1, 3)], &layers, &rank, &layer), 0);
    }

    #[test]
    fn sweeps_remove_an_avoidable_crossing() {
        // Discovery order puts c before d, but a -> d and b -> c.
        let dag = vec![vec![3], vec![2], vec![], vec![]];
        let layer = vec![0, 0, 1, 1];
        let layers = order_layers(&dag, &layer, &[0, 1, 2, 3]);
        assert_eq!(layers, vec![vec![0, 1], vec![3, 2]]);
    }
}
