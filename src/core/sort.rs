//! One small O(n log n) sort for rounds over thousands of records and keys.
//! It sorts positions (std's sorts cost ~1.8 KB per element type). Generic,
//! not `&dyn Fn`: an indirect call keeps every function in the wasm table,
//! core::fmt's included (~2 KB). No indexing that can panic, for the same reason.

use core::cmp::Ordering;

#[allow(unused_imports)]
use crate::prelude::*;

/// The positions `0..len` in the order `less(a, b)` gives (heapsort, not stable).
#[inline(never)]
pub fn sorted_order(len: usize, less: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len).collect();
    let at = |v: &[usize], i: usize| v.get(i).copied().unwrap_or(0);
    let sift = |v: &mut [usize], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end.min(v.len()) {
            break;
        }
        if child + 1 < end && less(at(v, child), at(v, child + 1)) {
            child += 1;
        }
        if !less(at(v, root), at(v, child)) || child >= v.len() {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    for start in (0..len / 2).rev() {
        sift(&mut v, start, len);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(&mut v, 0, end);
    }
    v
}

/// The position in `order` whose element compares Equal, if any.
pub fn search(order: &[usize], cmp: impl Fn(usize) -> Ordering) -> Option<usize> {
    order.binary_search_by(|i| cmp(*i)).ok().and_then(|at| order.get(at).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::SplitMix64;

    #[test]
    fn sorts_like_std_and_finds_what_is_there() {
        let mut rng = SplitMix64::new(11);
        for _ in 0..500 {
            let n = rng.up_to(40) as usize;
            let v: Vec<u64> = (0..n).map(|_| rng.up_to(10)).collect();
            let order = sorted_order(n, |a, b| v[a] < v[b]);
            let mut expected = v.clone();
            expected.sort();
            assert_eq!(order.iter().map(|i| v[*i]).collect::<Vec<_>>(), expected);
            for x in 0..10 {
                let found = search(&order, |i| v[i].cmp(&x));
                assert_eq!(found.map(|i| v[i]), v.contains(&x).then_some(x));
            }
        }
    }
}
