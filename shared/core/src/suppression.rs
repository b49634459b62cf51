//! The suppression rules of published output (MEASURES.md, Conventions): every count 1–5 is
//! hidden (primary), and where exactly one cell of a breakdown is hidden that way, the next
//! smallest non-zero cell is hidden too (secondary), so that no hidden value can be recovered by
//! subtracting the others from a total.

/// A count that published output must not show.
pub fn is_small(n: i64) -> bool {
    (1..=5).contains(&n)
}

/// Which cells of one breakdown to hide. `counts[i]` is the count cell `i` shows (`None` for a
/// cell that is not a count, which is never chosen).
pub fn suppressed_cells(counts: &[Option<i64>]) -> Vec<bool> {
    let mut hide: Vec<bool> = counts.iter().map(|c| c.is_some_and(is_small)).collect();
    if hide.iter().filter(|h| **h).count() == 1 {
        let next = counts
            .iter()
            .enumerate()
            .filter(|(i, c)| !hide[*i] && c.is_some_and(|n| n > 0))
            .min_by_key(|(i, c)| (c.unwrap_or(i64::MAX), *i))
            .map(|(i, _)| i);
        if let Some(i) = next {
            hide[i] = true;
        }
    }
    hide
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_is_one_to_five() {
        assert!(!is_small(0));
        assert!(is_small(1));
        assert!(is_small(5));
        assert!(!is_small(6));
    }

    #[test]
    fn one_small_cell_takes_the_next_smallest_non_zero_with_it() {
        let c = |v: &[i64]| v.iter().map(|&n| Some(n)).collect::<Vec<_>>();
        assert_eq!(
            suppressed_cells(&c(&[40, 3, 0, 12, 9])),
            [false, true, false, false, true]
        );
        // Two small cells: neither can be recovered from the total alone.
        assert_eq!(
            suppressed_cells(&c(&[40, 3, 2, 12])),
            [false, true, true, false]
        );
        // Ties go to the first; zeros are never chosen.
        assert_eq!(
            suppressed_cells(&c(&[7, 0, 7, 4])),
            [true, false, false, true]
        );
        // Nothing else to hide.
        assert_eq!(suppressed_cells(&c(&[0, 4, 0])), [false, true, false]);
        assert_eq!(
            suppressed_cells(&[None, Some(2), Some(9)]),
            [false, true, true]
        );
    }
}
