//! Automatic layered layout for nets whose file carries no positions, made
//! to read at scale.
//!
//! A Sugiyama layout, deterministic, O((V + E') log E') per sweep where E'
//! counts the arcs' pieces between adjacent layers:
//!
//! 1. **Cycles are broken** by a depth-first search whose roots are taken in a
//!    fixed order (nodes without inputs first, then places holding initial
//!    tokens, then everything else, each by index); the back edges it finds
//!    are reversed for layering.
//! 2. **Longest-path layering**: a node's layer is one more than the deepest of
//!    its predecessors, so every arc of the acyclic part points left to right;
//!    a source moves next to its nearest successor.
//! 3. **Dummy nodes**: an arc spanning several layers gets a slot in every
//!    layer between (up to [`MAX_DUMMIES`] in all), so it is routed between
//!    the nodes of those layers instead of through them.
//! 4. **Crossing reduction**: alternating down and up barycenter sweeps order
//!    each layer (dummies included); the ordering with the fewest crossings
//!    between adjacent layers (counted with a Fenwick tree) is kept.
//! 5. **Columns and bands**: each layer is a column, its nodes [`ROW_GAP`]
//!    apart (dummies closer). Columns are at least [`LAYER_GAP`] apart, more
//!    when labels are wide, so labels never overlap. A drawing larger than
//!    [`WRAP_AT`] whose aspect ratio is outside 1:2.5 to 2.5:1 is reshaped
//!    towards [`TARGET_ASPECT`]: too-tall layers are split into
//!    sub-columns and the columns wrap into bands stacked top to bottom
//!    (like lines of text), never inside a layer.
//! 6. **Routing**: arcs run through their dummies; an arc that must cross the
//!    sub-columns of a split layer runs along the free line between two
//!    rows; a longer arc runs in the channel above or below its band,
//!    reached by the corridors beside its ends' layers; an arc from one band
//!    to the next leaves right of its band, runs along the gap below it (past
//!    the bands between along the left or right margin) and enters its band
//!    from the left; a steep piece leaves and enters its node horizontally.
//!    The tests find no arc piece passing through another node.
//!
//! Two nodes never share a position; tests check 50, 500 and 2,000 nodes
//! for overlaps, arrowheads outside their node and the aspect ratio.

use crate::model::{Model, Point};

/// Least horizontal distance between two layers.
pub const LAYER_GAP: i32 = 100;
/// Estimated width of one label character (as drawn at 11px).
const CHAR_WIDTH: usize = 7;
/// Space kept between the labels of neighbouring columns.
const LABEL_GAP: usize = 12;
/// Vertical distance between two nodes of one layer.
pub const ROW_GAP: i32 = 70;
/// Vertical room of a dummy slot (an arc passing a layer).
const DUMMY_GAP: i32 = 24;
/// Least horizontal distance between two sub-columns of one split layer.
const SUB_GAP: i32 = 70;
/// Vertical gap between two bands of a wrapped drawing (arcs changing band
/// run along it).
const BAND_GAP: i32 = 120;
/// Horizontal room left and right of a band for arcs changing bands.
const LANE: i32 = 70;
/// Position of the first layer's first row.
const ORIGIN: i32 = 50;
/// Barycenter sweeps (each one down and one up).
const SWEEPS: usize = 6;
/// Longest span (in layers) routed through dummy nodes; longer arcs run in
/// the channels above and below the bands instead, which keeps the layers
/// from filling up with passing lines.
const MAX_SPAN: usize = 3;
/// Most dummy nodes made for one net; arcs beyond it use the channels.
pub const MAX_DUMMIES: usize = 200_000;
/// Drawings narrower and shorter than this are never reshaped.
pub const WRAP_AT: i32 = 1_600;
/// Width / height aimed at when a drawing is reshaped (a landscape screen).
pub const TARGET_ASPECT: f64 = 1.6;

/// Node positions and arc routes from [`layout_routed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Places first (in [`Model::places`] order), then transitions.
    pub positions: Vec<(i32, i32)>,
    /// Bend points of each arc, in [`Model::arcs`] order (empty: straight).
    pub arcs: Vec<Vec<Point>>,
}

/// Computes positions for every node of `model`: places first (in
/// [`Model::places`] order), then transitions (in [`Model::transitions`]
/// order). Deterministic: the same model always gets the same positions.
/// [`layout_routed`] gives the arcs' routes as well.
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
    layout_routed(model).positions
}

/// The layered layout with a route for every arc (bend points that keep it
/// clear of other nodes; see the module docs), reshaped (when it is large)
/// towards [`TARGET_ASPECT`].
pub fn layout_routed(model: &Model) -> Routed {
    layout_routed_for(model, TARGET_ASPECT)
}

/// Like [`layout_routed`], aiming at `aspect` (width / height, e.g. the
/// viewport's), clamped to 1:3 .. 3:1; a value that is not finite counts as
/// [`TARGET_ASPECT`].
pub fn layout_routed_for(model: &Model, aspect: f64) -> Routed {
    let aspect = if aspect.is_finite() {
        aspect.clamp(1.0 / 3.0, 3.0)
    } else {
        TARGET_ASPECT
    };
    let places = model.places().len();
    let n = places + model.transitions().len();
    if n == 0 {
        return Routed {
            positions: Vec::new(),
            arcs: vec![Vec::new(); model.arcs().len()],
        };
    }
    let node = |id: &str| {
        model
            .place_index(id)
            .or_else(|| model.transition_index(id).map(|t| places + t))
    };
    let ends: Vec<Option<(usize, usize)>> = model
        .arcs()
        .iter()
        .map(|arc| match (node(&arc.source), node(&arc.target)) {
            (Some(s), Some(t)) if s != t => Some((s, t)),
            _ => None,
        })
        .collect();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(s, t) in ends.iter().flatten() {
        succ[s].push(t);
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

    // Chains through dummy nodes, one per node pair an arc joins (either
    // direction), from the lower layer to the higher.
    let mut graph = Layered {
        layer: layer.clone(),
        real: n,
        down: vec![Vec::new(); n],
        up: vec![Vec::new(); n],
    };
    let mut chains: rustc_hash::FxHashMap<(usize, usize), Vec<usize>> = Default::default();
    let mut dummies = 0usize;
    for &(s, t) in ends.iter().flatten() {
        let (a, b) = if layer[s] <= layer[t] { (s, t) } else { (t, s) };
        if layer[a] == layer[b] || chains.contains_key(&(a, b)) {
            continue;
        }
        let span = layer[b] - layer[a];
        let mut chain = vec![a];
        if span > 1 && span <= MAX_SPAN && dummies + span - 1 <= MAX_DUMMIES {
            dummies += span - 1;
            for l in layer[a] + 1..layer[b] {
                chain.push(graph.add_dummy(l));
            }
        }
        chain.push(b);
        for w in chain.windows(2) {
            graph.link(w[0], w[1]);
        }
        chains.insert((a, b), chain);
    }
    let mut order = discovery;
    order.extend(n..graph.layer.len());
    let layers = order_layers(&graph, &order);
    let geometry = place(&layers, &graph, &label_width, aspect);
    let routes = ends
        .iter()
        .map(|e| match e {
            None => Vec::new(),
            Some((s, t)) => {
                let (a, b) = if layer[*s] <= layer[*t] {
                    (*s, *t)
                } else {
                    (*t, *s)
                };
                match chains.get(&(a, b)) {
                    None => Vec::new(),
                    Some(chain) => {
                        let mut pts = geometry.route(chain, n);
                        if a != *s {
                            pts.reverse();
                        }
                        pts
                    }
                }
            }
        })
        .collect();
    Routed {
        positions: geometry.pos[..n].to_vec(),
        arcs: routes,
    }
}

/// The layered graph: real nodes `0..real`, then dummies; each node's
/// neighbours in the layer below (`down`) and above (`up`).
struct Layered {
    layer: Vec<usize>,
    real: usize,
    down: Vec<Vec<usize>>,
    up: Vec<Vec<usize>>,
}

impl Layered {
    fn add_dummy(&mut self, layer: usize) -> usize {
        self.layer.push(layer);
        self.down.push(Vec::new());
        self.up.push(Vec::new());
        self.layer.len() - 1
    }
    fn link(&mut self, a: usize, b: usize) {
        self.up[a].push(b);
        self.down[b].push(a);
    }
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

/// Groups nodes by layer (initially in `order`) and reorders each layer
/// with barycenter sweeps, keeping the best ordering seen.
fn order_layers(g: &Layered, order: &[usize]) -> Vec<Vec<usize>> {
    let n = g.layer.len();
    let depth = g.layer.iter().max().map_or(0, |&d| d + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for &v in order {
        layers[g.layer[v]].push(v);
    }
    // Links between adjacent layers, where crossings are counted (a long
    // arc without dummies still pulls its ends together in the sweeps).
    let short: Vec<(usize, usize)> = (0..n)
        .flat_map(|v| g.up[v].iter().map(move |&w| (v, w)))
        .filter(|&(v, w)| g.layer[w] == g.layer[v] + 1)
        .collect();
    let mut pos = vec![0f64; n];
    let mut rank = vec![0usize; n];
    set_positions(&layers, &mut pos, &mut rank);
    let mut best = layers.clone();
    let mut best_crossings = crossings(&short, &layers, &rank, &g.layer);
    for _ in 0..SWEEPS {
        if best_crossings == 0 {
            break;
        }
        for l in layers.iter_mut().skip(1) {
            sweep(l, &g.down, &mut pos);
        }
        for l in layers.iter_mut().rev().skip(1) {
            sweep(l, &g.up, &mut pos);
        }
        set_positions(&layers, &mut pos, &mut rank);
        let c = crossings(&short, &layers, &rank, &g.layer);
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

/// One column of the drawing: a layer, or one sub-column of a split layer.
#[derive(Clone)]
struct Column {
    layer: usize,
    /// Sub-column index inside its layer, and how many the layer has.
    sub: usize,
    subs: usize,
    nodes: Vec<usize>,
    height: i32,
    /// Widest label in it.
    label: usize,
}

/// Where everything went: node (and dummy) positions, each node's column,
/// and each column's band, x and the band's extent.
struct Geometry {
    pos: Vec<(i32, i32)>,
    column_of: Vec<usize>,
    columns: Vec<Column>,
    x: Vec<i32>,
    band: Vec<usize>,
    /// Per band: left x, right x, bottom y, top y.
    bands: Vec<(i32, i32, i32, i32)>,
    /// First and last column of each layer.
    layer_columns: Vec<(usize, usize)>,
    lanes: std::cell::Cell<u32>,
}

fn slot(g: &Layered, v: usize, uniform: bool) -> i32 {
    if uniform || v < g.real {
        ROW_GAP
    } else {
        DUMMY_GAP
    }
}

/// Splits layers taller than `max_height` into sub-columns (with uniform
/// rows, so the lines between rows stay free across them).
fn columns(layers: &[Vec<usize>], g: &Layered, label: &[usize], max_height: i32) -> Vec<Column> {
    let mut out = Vec::new();
    for (li, l) in layers.iter().enumerate() {
        let natural: i64 = l.iter().map(|&v| i64::from(slot(g, v, false))).sum();
        let rows_cap = usize::try_from((max_height / ROW_GAP).max(1)).unwrap_or(1);
        let chunks: Vec<&[usize]> = if natural <= i64::from(max_height) || l.len() <= rows_cap {
            vec![&l[..]]
        } else {
            l.chunks(rows_cap).collect()
        };
        let subs = chunks.len();
        for (k, chunk) in chunks.into_iter().enumerate() {
            let uniform = subs > 1;
            let height = chunk
                .iter()
                .map(|&v| slot(g, v, uniform))
                .fold(0i32, i32::saturating_add);
            out.push(Column {
                layer: li,
                sub: k,
                subs,
                nodes: chunk.to_vec(),
                height,
                label: chunk
                    .iter()
                    .map(|&v| label.get(v).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0),
            });
        }
    }
    out
}

/// Horizontal distance from column `a` to the next column `b`.
fn gap(a: &Column, b: &Column) -> i32 {
    let base = if a.layer == b.layer {
        SUB_GAP
    } else {
        LAYER_GAP
    };
    let needed = (a.label.saturating_add(b.label)) / 2 + LABEL_GAP;
    base.max(clamp(needed))
}

/// Bands of columns: breaks before a column index, only between layers;
/// aims at `width` per band.
fn bands(cols: &[Column], width: i64) -> Vec<usize> {
    let mut breaks = vec![0];
    let mut run = 0i64;
    for i in 1..cols.len() {
        run += i64::from(gap(&cols[i - 1], &cols[i]));
        if cols[i].layer != cols[i - 1].layer && run > width {
            breaks.push(i);
            run = 0;
        }
    }
    breaks
}

/// Width and height of columns cut into bands at `breaks`.
fn extent(cols: &[Column], breaks: &[usize]) -> (i64, i64) {
    let (mut w, mut h) = (0i64, 0i64);
    for (k, &start) in breaks.iter().enumerate() {
        let end = breaks.get(k + 1).copied().unwrap_or(cols.len());
        let band = &cols[start..end];
        let bw: i64 = band
            .windows(2)
            .map(|p| i64::from(gap(&p[0], &p[1])))
            .sum::<i64>()
            + 2 * i64::from(LANE);
        w = w.max(bw);
        h += band.iter().map(|c| i64::from(c.height)).max().unwrap_or(0) + i64::from(BAND_GAP);
    }
    (w, h)
}

/// Chooses the split and the bands, then places every node.
fn place(layers: &[Vec<usize>], g: &Layered, label: &[usize], target: f64) -> Geometry {
    let tallest = layers
        .iter()
        .map(|l| {
            l.iter()
                .map(|&v| slot(g, v, false))
                .fold(0i32, i32::saturating_add)
        })
        .max()
        .unwrap_or(0);
    let mut cols = columns(layers, g, label, i32::MAX);
    let mut breaks = vec![0];
    let (w, h) = extent(&cols, &breaks);
    let aspect = w as f64 / h.max(1) as f64;
    let near = (target / 2.5).max(1.0 / 3.0)..=(target * 2.5).min(3.0);
    if (w > i64::from(WRAP_AT) || h > i64::from(WRAP_AT)) && !near.contains(&aspect) {
        // Candidates: band heights from one row to the tallest layer, each
        // with the band count that best fits the target aspect.
        let mut best: Option<(f64, i32, Vec<usize>)> = None;
        let mut cap = tallest.max(ROW_GAP);
        let mut tried = 0;
        while tried < 40 {
            tried += 1;
            let cols_here = columns(layers, g, label, cap);
            let (total, band_h) = extent(&cols_here, &[0]);
            let band_h = band_h.max(1) as f64;
            let ideal = (total as f64 / (target * band_h)).sqrt().max(1.0);
            for k in [
                ideal.floor(),
                ideal.ceil(),
                ideal.floor() - 1.0,
                ideal.ceil() + 1.0,
            ] {
                if k < 1.0 {
                    continue;
                }
                let per_band = (total as f64 / k).ceil() as i64;
                let br = bands(&cols_here, per_band);
                let (bw, bh) = extent(&cols_here, &br);
                let a = bw as f64 / bh.max(1) as f64;
                // Close to the target, and compact.
                let score = (a / target).ln().abs() + 0.15 * ((bw * bh) as f64).ln();
                if best.as_ref().is_none_or(|b| score < b.0) {
                    best = Some((score, cap, br));
                }
            }
            if cap <= ROW_GAP {
                break;
            }
            cap = (cap * 4 / 5).max(ROW_GAP);
        }
        if let Some((_, cap, br)) = best {
            cols = columns(layers, g, label, cap);
            breaks = br;
        }
    }
    let n = g.layer.len();
    let mut pos = vec![(ORIGIN, ORIGIN); n];
    let mut column_of = vec![0usize; n];
    let mut x = vec![0i32; cols.len()];
    let mut band = vec![0usize; cols.len()];
    let mut band_extent = Vec::new();
    let mut top = ORIGIN - ROW_GAP / 2;
    for (k, &start) in breaks.iter().enumerate() {
        let end = breaks.get(k + 1).copied().unwrap_or(cols.len());
        let height = cols[start..end].iter().map(|c| c.height).max().unwrap_or(0);
        let mut cx = ORIGIN;
        for i in start..end {
            if i > start {
                cx = cx
                    .saturating_add(gap(&cols[i - 1], &cols[i]))
                    .min(COORD_LIMIT);
            }
            x[i] = cx;
            band[i] = k;
            let c = &cols[i];
            let uniform = c.subs > 1;
            // Centred on the band's tallest column, rows aligned across the
            // sub-columns of a split layer.
            let mut y = top.saturating_add((height - c.height) / 2);
            if uniform {
                let first = &cols[i - c.sub];
                y = top.saturating_add((height - first.height) / 2);
            }
            for &v in &c.nodes {
                let h = slot(g, v, uniform);
                pos[v] = (cx, y.saturating_add(h / 2).min(COORD_LIMIT));
                column_of[v] = i;
                y = y.saturating_add(h).min(COORD_LIMIT);
            }
        }
        band_extent.push((
            ORIGIN - LANE,
            cx.saturating_add(LANE),
            top.saturating_add(height).min(COORD_LIMIT),
            top,
        ));
        top = top
            .saturating_add(height)
            .saturating_add(BAND_GAP)
            .min(COORD_LIMIT);
    }
    let mut layer_columns = vec![(0, 0); layers.len()];
    for (i, c) in cols.iter().enumerate() {
        if c.sub == 0 {
            layer_columns[c.layer].0 = i;
        }
        layer_columns[c.layer].1 = i;
    }
    Geometry {
        pos,
        column_of,
        columns: cols,
        x,
        band,
        bands: band_extent,
        layer_columns,
        lanes: std::cell::Cell::new(0),
    }
}

impl Geometry {
    /// Bend points along a chain of nodes (real ends, dummies between):
    /// a dummy is passed horizontally (two points), and a steep piece at a
    /// real node leaves or enters it horizontally first, so no line cuts
    /// through the neighbours in the node's column.
    fn route(&self, chain: &[usize], real: usize) -> Vec<Point> {
        let mut pts = Vec::new();
        for w in chain.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (pa, pb) = (self.pos[a], self.pos[b]);
            let (a_dummy, b_dummy) = (a >= real, b >= real);
            let start = if a_dummy { (pa.0 + 16, pa.1) } else { pa };
            let end = if b_dummy { (pb.0 - 16, pb.1) } else { pb };
            let mut seq = vec![start];
            self.hop(a, b, &mut seq);
            seq.push(end);
            if !a_dummy && steep(seq[0], seq[1]) {
                seq.insert(1, (pa.0 + STUB, pa.1));
            }
            let m = seq.len();
            if !b_dummy && steep(seq[m - 2], seq[m - 1]) {
                seq.insert(m - 1, (pb.0 - STUB, pb.1));
            }
            let from = usize::from(!a_dummy);
            let to = if b_dummy { seq.len() } else { seq.len() - 1 };
            pts.extend(seq[from..to].iter().map(|&(x, y)| Point { x, y }));
        }
        pts
    }

    /// The bends between `a` and `b` (a in a lower layer than b).
    fn hop(&self, a: usize, b: usize, out: &mut Vec<(i32, i32)>) {
        let half = ROW_GAP / 2;
        let (ca, cb) = (self.column_of[a], self.column_of[b]);
        let (pa, pb) = (self.pos[a], self.pos[b]);
        let la = self.layer_columns[self.columns[ca].layer];
        let lb = self.layer_columns[self.columns[cb].layer];
        let (band_a, band_b) = (self.band[ca], self.band[cb]);
        // Right of a's layer, and left of b's (corridors free of nodes).
        let right = self.corridor(la.1, true);
        let left = self.corridor(lb.0, false);
        let mut y = pa.1;
        if ca < la.1 {
            // Leave a split layer along the free line above a's row.
            y = pa.1 - half;
            out.push((pa.0 + 20, y));
        }
        let entry = if cb > lb.0 { pb.1 - half } else { pb.1 };
        let adjacent = self.columns[cb].layer == self.columns[ca].layer + 1;
        if band_a == band_b && adjacent {
            if ca < la.1 {
                out.push((right, y));
            }
            if cb > lb.0 {
                out.push((left, entry));
            }
        } else if band_a == band_b {
            // A long arc: up or down a corridor to the channel above or
            // below the band, along it, and back into b's row.
            let (wide, narrow) = self.lane();
            let (top, bottom) = (self.bands[band_a].3, self.bands[band_a].2);
            let channel = if (i64::from(pa.1) + i64::from(pb.1)) / 2
                < (i64::from(top) + i64::from(bottom)) / 2
            {
                top - BAND_GAP / 2 + wide
            } else {
                bottom + BAND_GAP / 2 + wide
            };
            out.push((right + narrow, y));
            out.push((right + narrow, channel));
            out.push((left + narrow, channel));
            out.push((left + narrow, entry));
        } else {
            // Down to the gap below a's band, then (past any bands between,
            // along the left or right margin) to the gap above b's band.
            let (wide, narrow) = self.lane();
            let below = self.bands[band_a].2 + BAND_GAP / 2 + wide;
            let x_out = if adjacent {
                self.bands[band_a].1 + wide
            } else {
                right + narrow
            };
            out.push((x_out, y));
            out.push((x_out, below));
            let x_in = if cb == self.layer_columns[self.columns[cb].layer].0
                && self.corridor(lb.0, false) == self.bands[band_b].0
            {
                self.bands[band_b].0 - wide
            } else {
                left + narrow
            };
            if band_b > band_a + 1 {
                // Past the bands between, along the left or the right
                // margin (every other arc), so neither carries them all.
                let margin = if wide.rem_euclid(12) == 3 {
                    let right = self.bands[band_a..=band_b]
                        .iter()
                        .map(|b| b.1)
                        .max()
                        .unwrap_or(self.bands[band_a].1);
                    right + LANE + wide
                } else {
                    self.bands[band_a].0 - LANE + wide
                };
                let above = self.bands[band_b - 1].2 + BAND_GAP / 2 + wide;
                out.push((margin, below));
                out.push((margin, above));
                out.push((x_in, above));
            } else {
                out.push((x_in, below));
            }
            out.push((x_in, entry));
        }
        if cb > lb.0 {
            out.push((pb.0 - 20, entry));
        }
    }

    /// The x of the free corridor right (or left) of column `c`: halfway to
    /// the next column of its band, or the band's margin.
    fn corridor(&self, c: usize, right: bool) -> i32 {
        let band = self.band[c];
        let next = if right {
            c.checked_add(1)
        } else {
            c.checked_sub(1)
        };
        match next.filter(|&n| n < self.columns.len() && self.band[n] == band) {
            Some(n) => (self.x[c] + self.x[n]) / 2,
            None if right => self.bands[band].1,
            None => self.bands[band].0,
        }
    }

    /// Offsets per routed arc, so that lanes do not merge into one line:
    /// a wide one for the gaps between bands and the margins (16 lanes 6
    /// apart, within the gap and the margin), a narrow one for the
    /// corridors between columns (8 lanes 4 apart, clear of the nodes).
    fn lane(&self) -> (i32, i32) {
        let k = self.lanes.get();
        self.lanes.set(k.wrapping_add(1));
        let wide = i32::try_from(k % 16).unwrap_or(0) * 6 - 45;
        let narrow = i32::try_from(k % 8).unwrap_or(0) * 4 - 14;
        (wide, narrow)
    }
}

/// Largest coordinate the layout hands out (about 5 x 10^8): routes add at
/// most a few hundred units to it and corridors sum two of them, all far
/// from `i32::MAX`. Only a net far beyond the model limits' labels and
/// sizes could reach it; its nodes would then share the edge of the plane.
const COORD_LIMIT: i32 = 1 << 29;

/// Horizontal run before a steep piece leaves (or enters) a node.
const STUB: i32 = 24;

/// Steeper than 3:2: such a piece would cut through the neighbours of the
/// node it leaves or enters.
fn steep(a: (i32, i32), b: (i32, i32)) -> bool {
    let dx = (i64::from(b.0) - i64::from(a.0)).abs();
    let dy = (i64::from(b.1) - i64::from(a.1)).abs();
    2 * dy > 3 * dx
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
        let mut g = Layered {
            layer: vec![0, 0, 1, 1],
            real: 4,
            down: vec![Vec::new(); 4],
            up: vec![Vec::new(); 4],
        };
        g.link(0, 3);
        g.link(1, 2);
        let layers = order_layers(&g, &[0, 1, 2, 3]);
        assert_eq!(layers, vec![vec![0, 1], vec![3, 2]]);
    }
}
