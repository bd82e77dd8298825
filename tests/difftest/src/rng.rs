//! SplitMix64: small, fast and reproducible from a seed.

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    /// A value biased towards the edges where arithmetic goes wrong
    /// (including every shift count at and around each operand width).
    pub fn edge_u64(&mut self) -> u64 {
        const COUNTS: [u64; 12] = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 63, 64];
        const EDGES: [u64; 12] = [
            0,
            1,
            2,
            u64::MAX,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x7f,
            0x80,
            0xffff,
        ];
        match self.below(5) {
            0 => *self.pick(&EDGES),
            1 => *self.pick(&COUNTS),
            2 => self.next_u64() & 0xff,
            _ => self.next_u64(),
        }
    }
}
