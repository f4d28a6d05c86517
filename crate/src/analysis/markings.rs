//! The explorer's compact set of markings: every marking once, bit-packed
//! into one arena of u64 words at the narrowest width (1, 2, 4, ... 64 bits
//! a count) that holds every count seen so far, found again through an
//! open-addressing table of u32 state numbers keyed by a hash of the packed
//! words. No per-marking allocation, no strings: a 1-safe net of n places
//! costs ceil(n / 64) words a state, plus 4 to 8 bytes of table.
//!
//! Widths are powers of two, so a count never straddles two words. When ω
//! may occur (coverability), the all-ones value of a width stands for ω.
//! A state's number is its position in the arena, which is also the order
//! the explorer found it in (breadth first), so the arena is the queue.

use super::step::OMEGA;

pub(crate) struct MarkingSet {
    places: usize,
    /// Bits per count: 1, 2, 4, 8, 16, 32 or 64.
    bits: u32,
    /// Words per marking.
    row: usize,
    /// Whether all-ones stands for ω.
    omega: bool,
    data: Vec<u64>,
    /// Open addressing, power-of-two size; 0 = empty, else state number + 1.
    table: Vec<u32>,
    len: usize,
    scratch: Vec<u64>,
}

fn hash(words: &[u64]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x2545_F491_4F6C_DD1D;
    for &w in words {
        h = (h ^ w).wrapping_mul(K).rotate_left(27);
    }
    h ^= h >> 31;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
}

/// Where `insert` put a marking.
pub(crate) enum Inserted {
    New(u32),
    Old,
}

impl MarkingSet {
    pub(crate) fn new(places: usize, omega: bool) -> MarkingSet {
        let mut set = MarkingSet {
            places,
            bits: 1,
            row: 0,
            omega,
            data: Vec::new(),
            table: vec![0; 1024],
            len: 0,
            scratch: Vec::new(),
        };
        set.row = set.row_words(1);
        set
    }

    fn row_words(&self, bits: u32) -> usize {
        (self.places * bits as usize).div_ceil(64).max(1)
    }

    fn all_ones(bits: u32) -> u64 {
        if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        }
    }

    /// The largest real count the current width stores.
    fn max_count(&self) -> u64 {
        let ones = Self::all_ones(self.bits);
        if self.omega {
            ones - 1
        } else {
            ones
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the arena and the table.
    pub(crate) fn bytes(&self) -> usize {
        (self.data.capacity() + self.scratch.capacity()) * 8 + self.table.capacity() * 4
    }

    /// Bytes of table per state (4 per slot, between 2 and 4 slots a state).
    pub(crate) fn table_bytes_per_state(&self) -> u64 {
        ((self.table.len() * 4) / self.len.max(1)) as u64
    }

    /// Bytes of one packed marking.
    pub(crate) fn row_bytes(&self) -> usize {
        self.row * 8
    }

    #[inline]
    fn write(row: &mut [u64], bits: u32, place: usize, value: u64) {
        let at = place * bits as usize;
        let (w, shift) = (at / 64, (at % 64) as u32);
        let mask = Self::all_ones(bits) << shift;
        row[w] = (row[w] & !mask) | ((value << shift) & mask);
    }

    fn encode(&self, m: &[u64], out: &mut Vec<u64>) {
        out.clear();
        out.resize(self.row, 0);
        let ones = Self::all_ones(self.bits);
        for (p, &n) in m.iter().enumerate() {
            let v = if n == OMEGA { ones } else { n };
            Self::write(out, self.bits, p, v);
        }
    }

    /// Decodes state `i` into `out`.
    pub(crate) fn get(&self, i: u32, out: &mut [u64]) {
        let start = i as usize * self.row;
        let row = &self.data[start..start + self.row];
        let bits = self.bits as usize;
        let ones = Self::all_ones(self.bits);
        for (p, slot) in out.iter_mut().enumerate() {
            let at = p * bits;
            let v = (row[at / 64] >> (at % 64)) & ones;
            *slot = if self.omega && v == ones { OMEGA } else { v };
        }
    }

    /// Finds the state holding the packed words in `self.scratch`.
    #[inline]
    fn find_scratch(&self, h: u64) -> Result<u32, usize> {
        self.find_row(&self.scratch, h)
    }

    /// Finds the state holding the packed words `key` (hash `h`): its
    /// number, or the empty slot where it would go.
    #[inline]
    fn find_row(&self, key: &[u64], h: u64) -> Result<u32, usize> {
        let mask = self.table.len() - 1;
        let mut slot = (h as usize) & mask;
        loop {
            match self.table[slot] {
                0 => return Err(slot),
                s => {
                    let i = (s - 1) as usize;
                    if self.data[i * self.row..(i + 1) * self.row] == *key {
                        return Ok(s - 1);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    fn fits(&self, m: &[u64]) -> Result<(), u64> {
        let max = self.max_count();
        match m.iter().filter(|&&n| n != OMEGA && n > max).max() {
            Some(&n) => Err(n),
            None => Ok(()),
        }
    }

    /// The number of `m`, if the set holds it.
    pub(crate) fn find(&mut self, m: &[u64]) -> Option<u32> {
        self.fits(m).ok()?;
        let mut scratch = std::mem::take(&mut self.scratch);
        self.encode(m, &mut scratch);
        self.scratch = scratch;
        self.find_scratch(hash(&self.scratch)).ok()
    }

    /// Adds `m` unless present. Fails (None) only when the set would pass
    /// u32::MAX - 1 states.
    pub(crate) fn insert(&mut self, m: &[u64]) -> Option<Inserted> {
        if let Err(need) = self.fits(m) {
            self.widen(need);
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        self.encode(m, &mut scratch);
        self.scratch = scratch;
        self.insert_scratch()
    }

    /// Packs the marking of state `parent` with `changes` applied and
    /// appends it to `batch`, for [`MarkingSet::warm`] and
    /// [`MarkingSet::insert_row`]. Returns false, appending nothing, when a
    /// count needed a wider packing: the set was repacked, and rows already
    /// in `batch` are stale.
    #[inline]
    pub(crate) fn push_successor(
        &mut self,
        parent: u32,
        changes: impl Iterator<Item = (usize, u64)> + Clone,
        batch: &mut Vec<u64>,
    ) -> bool {
        let max = self.max_count();
        if let Some(need) = changes
            .clone()
            .map(|(_, n)| n)
            .filter(|&n| n != OMEGA && n > max)
            .max()
        {
            self.widen(need);
            return false;
        }
        let start = parent as usize * self.row;
        let at = batch.len();
        batch.extend_from_slice(&self.data[start..start + self.row]);
        let ones = Self::all_ones(self.bits);
        for (p, n) in changes {
            let v = if n == OMEGA { ones } else { n };
            Self::write(&mut batch[at..], self.bits, p, v);
        }
        true
    }

    /// Words per packed marking.
    pub(crate) fn row_words_now(&self) -> usize {
        self.row
    }

    /// Hashes each row of `batch` into `hashes` and reads the table slot and
    /// the first word of the state it names, so that the cache misses of a
    /// whole batch overlap instead of coming one after another. Returns a
    /// value that depends on every read (for `black_box`).
    pub(crate) fn warm(&self, batch: &[u64], hashes: &mut Vec<u64>) -> u64 {
        hashes.clear();
        let mask = self.table.len() - 1;
        let mut sink = 0u64;
        for key in batch.chunks_exact(self.row) {
            let h = hash(key);
            hashes.push(h);
            sink = sink.wrapping_add(self.table[(h as usize) & mask] as u64);
        }
        for &h in hashes.iter() {
            let s = self.table[(h as usize) & mask];
            if s != 0 {
                sink ^= self.data[(s as usize - 1) * self.row];
            }
        }
        sink
    }

    /// Adds the packed marking `key` (hash `h`, from [`MarkingSet::warm`])
    /// unless present.
    #[inline]
    pub(crate) fn insert_row(&mut self, key: &[u64], h: u64) -> Option<Inserted> {
        match self.find_row(key, h) {
            Ok(_) => Some(Inserted::Old),
            Err(slot) => self.insert_at(key, slot),
        }
    }

    fn insert_at(&mut self, key: &[u64], slot: usize) -> Option<Inserted> {
        if self.len >= (u32::MAX - 1) as usize {
            return None;
        }
        let i = self.len as u32;
        self.data.extend_from_slice(key);
        self.table[slot] = i + 1;
        self.len += 1;
        if self.len * 2 > self.table.len() {
            self.rehash(self.table.len() * 2);
        }
        Some(Inserted::New(i))
    }

    fn insert_scratch(&mut self) -> Option<Inserted> {
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
        let mut table = vec![0u32; size];
        for i in 0..self.len {
            let h = hash(&self.data[i * self.row..(i + 1) * self.row]);
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
        let mut bits = self.bits;
        while bits < 64 {
            bits *= 2;
            let ones = Self::all_ones(bits);
            if need <= if self.omega { ones - 1 } else { ones } {
                break;
            }
        }
        let mut m = vec![0u64; self.places];
        let old = MarkingSet {
            places: self.places,
            bits: self.bits,
            row: self.row,
            omega: self.omega,
            data: std::mem::take(&mut self.data),
            table: Vec::new(),
            len: self.len,
            scratch: Vec::new(),
        };
        self.bits = bits;
        self.row = self.row_words(bits);
        let mut data = Vec::with_capacity(self.len * self.row);
        let mut packed = Vec::new();
        for i in 0..old.len {
            old.get(i as u32, &mut m);
            self.encode(&m, &mut packed);
            data.extend_from_slice(&packed);
        }
        self.data = data;
        self.rehash(self.table.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markings_survive_widening_and_are_found_again() {
        for omega in [false, true] {
            let mut set = MarkingSet::new(3, omega);
            let ms: Vec<Vec<u64>> = (0..5000u64)
                .map(|i| {
                    let last = if omega && i % 11 == 0 { OMEGA } else { i * i };
                    vec![i % 7, i, last]
                })
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
    }

    #[test]
    fn successors_patch_the_parent_and_widen_when_needed() {
        let mut set = MarkingSet::new(70, false);
        let zero = vec![0u64; 70];
        set.insert(&zero);
        assert_eq!(set.row_bytes(), 16, "70 one-bit counts in two words");
        assert_eq!(set.row_words_now(), 2);
        let (mut batch, mut hashes) = (Vec::new(), Vec::new());
        assert!(set.push_successor(0, [(65usize, 1u64)].into_iter(), &mut batch));
        set.warm(&batch, &mut hashes);
        assert!(matches!(
            set.insert_row(&batch, hashes[0]),
            Some(Inserted::New(1))
        ));
        batch.clear();
        // 1000 needs 16 bits: the set is repacked first, and nothing is pushed.
        assert!(!set.push_successor(1, [(3usize, 1000u64)].into_iter(), &mut batch));
        assert!(batch.is_empty());
        assert!(set.push_successor(1, [(3usize, 1000u64)].into_iter(), &mut batch));
        set.warm(&batch, &mut hashes);
        assert!(matches!(
            set.insert_row(&batch, hashes[0]),
            Some(Inserted::New(2))
        ));
        let mut out = vec![0; 70];
        set.get(2, &mut out);
        let mut expected = zero.clone();
        expected[65] = 1;
        expected[3] = 1000;
        assert_eq!(out, expected);
        set.get(1, &mut out);
        assert_eq!(out[65], 1);
        assert_eq!(set.find(&expected), Some(2));
        assert!(matches!(set.insert(&zero), Some(Inserted::Old)));
    }
}
