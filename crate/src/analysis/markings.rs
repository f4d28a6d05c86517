//! The explorer's compact set of markings: every marking once, packed into
//! one byte arena at the narrowest width (1, 2, 4 or 8 bytes a count) that
//! holds every count seen so far, found again through an open-addressing
//! table of u32 state numbers keyed by a hash of the packed bytes. No
//! per-marking allocation, no strings: a 1-safe net of n places costs n
//! bytes a state plus 8 bytes of table at most.
//!
//! A state's number is its position in the arena, which is also the order
//! the explorer found it in (breadth first), so the arena is the queue.

use super::step::OMEGA;

pub(crate) struct MarkingSet {
    places: usize,
    /// Bytes per count: 1, 2, 4 or 8.
    width: usize,
    data: Vec<u8>,
    /// Open addressing, power-of-two size; 0 = empty, else state number + 1.
    table: Vec<u32>,
    len: usize,
    scratch: Vec<u8>,
}

/// The largest count a width stores; its all-ones value stands for ω.
fn max_at(width: usize) -> u64 {
    if width == 8 {
        u64::MAX - 1
    } else {
        (1u64 << (8 * width)) - 2
    }
}

fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
}

fn encode(m: &[u64], width: usize, out: &mut Vec<u8>) {
    out.clear();
    for &n in m {
        let v = if n == OMEGA { u64::MAX } else { n };
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
}

/// Where `insert` put a marking.
pub(crate) enum Inserted {
    New(u32),
    Old,
}

impl MarkingSet {
    pub(crate) fn new(places: usize) -> MarkingSet {
        MarkingSet {
            places,
            width: 1,
            data: Vec::new(),
            table: vec![0; 1024],
            len: 0,
            scratch: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the arena and the table.
    pub(crate) fn bytes(&self) -> usize {
        self.data.capacity() + self.table.capacity() * 4
    }

    /// Bytes one more state would add to the arena, on average in the table.
    pub(crate) fn bytes_per_state(&self) -> usize {
        self.places * self.width + 8
    }

    /// Decodes state `i` into `out`.
    pub(crate) fn get(&self, i: u32, out: &mut [u64]) {
        let w = self.width;
        let start = i as usize * self.places * w;
        let bytes = &self.data[start..start + self.places * w];
        let all_ones = if w == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * w)) - 1
        };
        for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(w)) {
            let mut b = [0u8; 8];
            b[..w].copy_from_slice(chunk);
            let v = u64::from_le_bytes(b);
            *slot = if v == all_ones { OMEGA } else { v };
        }
    }

    fn slot_of(&self, h: u64) -> usize {
        (h as usize) & (self.table.len() - 1)
    }

    /// Finds the state holding the packed bytes in `self.scratch`.
    fn find_scratch(&self, h: u64) -> Result<u32, usize> {
        let row = self.places * self.width;
        let mut slot = self.slot_of(h);
        loop {
            match self.table[slot] {
                0 => return Err(slot),
                s => {
                    let i = (s - 1) as usize;
                    if self.data[i * row..(i + 1) * row] == self.scratch[..] {
                        return Ok(s - 1);
                    }
                }
            }
            slot = (slot + 1) & (self.table.len() - 1);
        }
    }

    /// The number of `m`, if the set holds it.
    pub(crate) fn find(&mut self, m: &[u64]) -> Option<u32> {
        if m.iter().any(|&n| n != OMEGA && n > max_at(self.width)) {
            return None;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        encode(m, self.width, &mut scratch);
        self.scratch = scratch;
        self.find_scratch(hash(&self.scratch)).ok()
    }

    /// Adds `m` unless present. Fails (None) only when the set would pass
    /// u32::MAX - 1 states.
    pub(crate) fn insert(&mut self, m: &[u64]) -> Option<Inserted> {
        let need = m
            .iter()
            .filter(|&&n| n != OMEGA)
            .max()
            .copied()
            .unwrap_or(0);
        if need > max_at(self.width) {
            self.widen(need);
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        encode(m, self.width, &mut scratch);
        self.scratch = scratch;
        let h = hash(&self.scratch);
        match self.find_scratch(h) {
            Ok(_) => Some(Inserted::Old),
            Err(slot) => {
                if self.len >= (u32::MAX - 1) as usize {
                    return None;
                }
                let i = self.len as u32;
                self.data.extend_from_slice(&self.scratch);
                self.table[slot] = i + 1;
                self.len += 1;
                if self.len * 2 > self.table.len() {
                    self.rehash(self.table.len() * 2);
                }
                Some(Inserted::New(i))
            }
        }
    }

    fn rehash(&mut self, size: usize) {
        let row = self.places * self.width;
        let mut table = vec![0u32; size];
        for i in 0..self.len {
            let h = hash(&self.data[i * row..(i + 1) * row]);
            let mut slot = (h as usize) & (size - 1);
            while table[slot] != 0 {
                slot = (slot + 1) & (size - 1);
            }
            table[slot] = i as u32 + 1;
        }
        self.table = table;
    }

    /// Repacks every state at the narrowest width that holds `need`.
    fn widen(&mut self, need: u64) {
        let width = [2, 4, 8]
            .into_iter()
            .find(|&w| w > self.width && need <= max_at(w))
            .unwrap_or(8);
        let mut data = Vec::with_capacity(self.len * self.places * width);
        let mut m = vec![0u64; self.places];
        let mut packed = Vec::new();
        for i in 0..self.len {
            self.get(i as u32, &mut m);
            encode(&m, width, &mut packed);
            data.extend_from_slice(&packed);
        }
        self.data = data;
        self.width = width;
        self.rehash(self.table.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markings_survive_widening_and_are_found_again() {
        let mut set = MarkingSet::new(3);
        let ms: Vec<Vec<u64>> = (0..5000u64)
            .map(|i| vec![i % 7, i, if i % 11 == 0 { OMEGA } else { i * i }])
            .collect();
        for m in &ms {
            assert!(matches!(set.insert(m), Some(Inserted::New(_))));
        }
        assert_eq!(set.len(), ms.len());
        let mut out = vec![0; 3];
        for (i, m) in ms.iter().enumerate() {
            assert!(matches!(set.insert(m), Some(Inserted::Old)));
            set.get(i as u32, &mut out);
            assert_eq!(&out, m);
            assert_eq!(set.find(m), Some(i as u32));
        }
        assert_eq!(set.find(&[1, 2, 3]), None);
        assert_eq!(set.find(&[1, 2, u64::MAX - 5]), None);
    }

    #[test]
    fn a_one_safe_marking_takes_a_byte_a_place() {
        let mut set = MarkingSet::new(10);
        set.insert(&[1; 10]);
        assert_eq!(set.bytes_per_state(), 18);
    }
}
