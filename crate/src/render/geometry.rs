//! Plane geometry for drawing: node shapes, clipping an arc at a node's
//! border, the middle of a polyline, a bounding box.

/// Radius of a place's circle.
pub const PLACE_RADIUS: f64 = 16.0;
/// Half the side of a transition's square.
pub const TRANSITION_HALF: f64 = 15.0;

/// A point in drawing coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

impl Pt {
    pub fn new(x: f64, y: f64) -> Pt {
        Pt { x, y }
    }
    pub fn minus(self, o: Pt) -> Pt {
        Pt::new(self.x - o.x, self.y - o.y)
    }
    pub fn plus(self, o: Pt) -> Pt {
        Pt::new(self.x + o.x, self.y + o.y)
    }
    pub fn times(self, k: f64) -> Pt {
        Pt::new(self.x * k, self.y * k)
    }
    fn length(self) -> f64 {
        self.x.hypot(self.y)
    }
    /// The unit vector turned a quarter to the left (y grows downwards), or
    /// zero for a zero vector.
    pub fn normal(self) -> Pt {
        let len = self.length();
        if len > 0.0 {
            Pt::new(-self.y / len, self.x / len)
        } else {
            Pt::new(0.0, 0.0)
        }
    }
}

/// The outline of a node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A circle of this radius (a place).
    Circle(f64),
    /// An axis-aligned square of this half side (a transition).
    Square(f64),
}

/// Where the segment from `center` towards `toward` leaves `shape` (centred
/// at `center`). When `toward` is inside the shape the centre is returned.
pub fn clip(shape: Shape, center: Pt, toward: Pt) -> Pt {
    let d = toward.minus(center);
    let len = d.length();
    if len == 0.0 {
        return center;
    }
    let t = match shape {
        Shape::Circle(r) => r / len,
        Shape::Square(h) => {
            let tx = if d.x != 0.0 {
                h / d.x.abs()
            } else {
                f64::INFINITY
            };
            let ty = if d.y != 0.0 {
                h / d.y.abs()
            } else {
                f64::INFINITY
            };
            tx.min(ty)
        }
    };
    if t >= 1.0 {
        center
    } else {
        center.plus(d.times(t))
    }
}

/// Whether `p` lies inside `shape` (centred at `center`) or on its border.
pub fn inside(shape: Shape, center: Pt, p: Pt) -> bool {
    let d = p.minus(center);
    match shape {
        Shape::Circle(r) => d.length() <= r,
        Shape::Square(h) => d.x.abs() <= h && d.y.abs() <= h,
    }
}

/// Where the segment from `from` (inside `shape`, centred at `center`)
/// towards `toward` leaves the shape, found by bisection (for lines that do
/// not start at the centre, like an arc drawn beside its reverse twin).
/// `from` itself when it is not inside; `toward` when the whole segment is.
pub fn exit(shape: Shape, center: Pt, from: Pt, toward: Pt) -> Pt {
    if !inside(shape, center, from) {
        return from;
    }
    if inside(shape, center, toward) {
        return toward;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if inside(shape, center, from.plus(toward.minus(from).times(mid))) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    from.plus(toward.minus(from).times(hi))
}

/// The point halfway along a polyline (by length) and the direction of the
/// segment it lies on.
pub fn midpoint(points: &[Pt]) -> (Pt, Pt) {
    let total: f64 = points.windows(2).map(|w| w[1].minus(w[0]).length()).sum();
    let mut left = total / 2.0;
    for w in points.windows(2) {
        let d = w[1].minus(w[0]);
        let len = d.length();
        if len > 0.0 && left <= len {
            return (w[0].plus(d.times(left / len)), d);
        }
        left -= len;
    }
    let last = points.last().copied().unwrap_or(Pt::new(0.0, 0.0));
    (last, Pt::new(0.0, 0.0))
}

/// A running bounding box.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Pt,
    pub max: Pt,
}

impl Bounds {
    pub fn empty() -> Bounds {
        Bounds {
            min: Pt::new(f64::INFINITY, f64::INFINITY),
            max: Pt::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
        }
    }
    /// Grows the box to hold the rectangle centred at `c` with half sizes `hw`, `hh`.
    pub fn add(&mut self, c: Pt, hw: f64, hh: f64) {
        self.min.x = self.min.x.min(c.x - hw);
        self.min.y = self.min.y.min(c.y - hh);
        self.max.x = self.max.x.max(c.x + hw);
        self.max.y = self.max.y.max(c.y + hh);
    }
    pub fn is_empty(&self) -> bool {
        self.min.x > self.max.x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_stops_at_the_border() {
        let c = Pt::new(0.0, 0.0);
        assert_eq!(
            clip(Shape::Circle(10.0), c, Pt::new(100.0, 0.0)),
            Pt::new(10.0, 0.0)
        );
        assert_eq!(
            clip(Shape::Square(15.0), c, Pt::new(0.0, -60.0)),
            Pt::new(0.0, -15.0)
        );
        // Diagonal towards a square: leaves through the corner.
        assert_eq!(
            clip(Shape::Square(15.0), c, Pt::new(30.0, 30.0)),
            Pt::new(15.0, 15.0)
        );
        // Target inside the shape, or on the centre: stays at the centre.
        assert_eq!(clip(Shape::Circle(10.0), c, Pt::new(3.0, 0.0)), c);
        assert_eq!(clip(Shape::Circle(10.0), c, c), c);
    }

    #[test]
    fn midpoint_is_halfway_by_length() {
        let pts = [Pt::new(0.0, 0.0), Pt::new(10.0, 0.0), Pt::new(10.0, 30.0)];
        let (m, d) = midpoint(&pts);
        assert_eq!(m, Pt::new(10.0, 10.0));
        assert_eq!(d, Pt::new(0.0, 30.0));
    }
}
