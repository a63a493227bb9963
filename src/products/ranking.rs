//! The order of person-level outputs: by practice, then highest risk first,
//! then `person_id`, so a practice's file reads as its ranked list.
//!
//! Sorting the whole population on those three columns costs n log n string
//! and float comparisons. A practice's list has a bounded size whatever the
//! population (an English practice has ~10,000 people), so people are put
//! into one bucket per practice in a linear pass and only each practice's
//! rows are sorted, practices in parallel: time grows linearly with the
//! population. The order is exactly the one Polars' stable multi-column sort
//! gives (missing values first, ties kept in row order).

use std::cmp::Ordering;

use polars::prelude::*;
use rayon::prelude::*;

use super::{ProductError, Result};

/// Row positions of `frame` in output order: `key` ascending, `risk`
/// descending, `id` ascending; missing values first in each; rows equal in
/// all three stay in their input order.
pub fn ranked_order(frame: &DataFrame, key: &str, risk: &str, id: &str) -> Result<IdxCa> {
    let keys = frame.column(key)?.cast(&DataType::String)?;
    let risks = frame.column(risk)?.cast(&DataType::Float64)?;
    let ids = frame.column(id)?.cast(&DataType::String)?;
    let risks = risks.f64()?.rechunk();
    let ids = ids.str()?.rechunk();
    let (buckets, mut order) = bucket_by(keys.str()?)?;
    let risk_of = |row: IdxSize| risks.get(row as usize);
    let id_of = |row: IdxSize| ids.get(row as usize);
    let mut slices: Vec<&mut [IdxSize]> = Vec::with_capacity(buckets.len());
    let mut rest = order.as_mut_slice();
    for len in buckets {
        let (bucket, tail) = rest.split_at_mut(len);
        slices.push(bucket);
        rest = tail;
    }
    slices.par_iter_mut().for_each(|bucket| {
        // Each row's risk is read once into a contiguous list (a practice's
        // rows are scattered over the population: reading risks inside the
        // comparisons missed the cache at every step). `sort_by` is stable:
        // rows equal in risk and id keep their order.
        let mut keyed: Vec<(Option<f64>, IdxSize)> =
            bucket.iter().map(|&row| (risk_of(row), row)).collect();
        keyed.sort_by(|(ra, a), (rb, b)| {
            descending(*ra, *rb).then_with(|| id_of(*a).cmp(&id_of(*b)))
        });
        for (slot, (_, row)) in bucket.iter_mut().zip(keyed) {
            *slot = row;
        }
    });
    Ok(IdxCa::from_vec("order".into(), order))
}

/// Missing first, then from the highest value down (NaN above every number,
/// as Polars orders it).
fn descending(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

/// The sizes of the buckets of equal `keys`, in key order (missing first),
/// and the row positions grouped by bucket, each bucket in row order: a
/// counting sort on the keys' ranks.
fn bucket_by(keys: &StringChunked) -> Result<(Vec<usize>, Vec<IdxSize>)> {
    let mut codes: hashbrown::HashMap<Option<&str>, u32> = hashbrown::HashMap::new();
    let mut labels: Vec<Option<&str>> = Vec::new();
    let mut row_codes: Vec<u32> = Vec::with_capacity(keys.len());
    let mut last: Option<(Option<&str>, u32)> = None;
    for key in keys.iter() {
        let code = match last {
            Some((seen, code)) if seen == key => code,
            _ => {
                let code = *codes.entry(key).or_insert_with(|| {
                    labels.push(key);
                    labels.len() as u32 - 1
                });
                last = Some((key, code));
                code
            }
        };
        row_codes.push(code);
    }
    let mut by_label: Vec<usize> = (0..labels.len()).collect();
    by_label.sort_by(|&a, &b| labels[a].cmp(&labels[b]));
    let mut rank = vec![0usize; labels.len()];
    for (position, &code) in by_label.iter().enumerate() {
        rank[code] = position;
    }
    let mut sizes = vec![0usize; labels.len()];
    for &code in &row_codes {
        sizes[rank[code as usize]] += 1;
    }
    let mut next: Vec<usize> = sizes
        .iter()
        .scan(0, |start, &size| {
            let at = *start;
            *start += size;
            Some(at)
        })
        .collect();
    let mut order: Vec<IdxSize> = vec![0; row_codes.len()];
    for (row, &code) in row_codes.iter().enumerate() {
        let slot = &mut next[rank[code as usize]];
        order[*slot] = IdxSize::try_from(row)
            .map_err(|_| ProductError::Internal("more rows than Polars can index".into()))?;
        *slot += 1;
    }
    Ok((sizes, order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order_of(
        keys: Vec<Option<&str>>,
        risks: Vec<Option<f64>>,
        ids: Vec<Option<&str>>,
    ) -> Vec<IdxSize> {
        let frame = df!("k" => keys, "r" => risks, "id" => ids).expect("frame");
        ranked_order(&frame, "k", "r", "id")
            .expect("order")
            .into_no_null_iter()
            .collect()
    }

    #[test]
    fn practice_then_highest_risk_then_id_with_missing_values_first() {
        let order = order_of(
            vec![
                Some("B"),
                Some("A"),
                None,
                Some("B"),
                Some("A"),
                Some("B"),
                Some("B"),
            ],
            vec![
                Some(0.1),
                Some(0.2),
                Some(0.9),
                Some(0.5),
                Some(0.7),
                None,
                Some(0.5),
            ],
            vec![
                Some("p1"),
                Some("p2"),
                Some("p3"),
                Some("p5"),
                Some("p5"),
                Some("p6"),
                Some("p4"),
            ],
        );
        // Missing practice (row 2); A: 0.7 (4), 0.2 (1); B: missing risk (5),
        // then 0.5 as p4 (6) before p5 (3), then 0.1 (0).
        assert_eq!(order, [2, 4, 1, 5, 6, 3, 0]);
    }

    #[test]
    fn rows_equal_in_every_key_keep_their_order() {
        let order = order_of(
            vec![Some("A"); 4],
            vec![Some(0.5), Some(0.5), Some(0.6), Some(0.5)],
            vec![Some("x"), Some("x"), Some("y"), Some("x")],
        );
        assert_eq!(order, [2, 0, 1, 3]);
    }

    proptest! {
        /// The same order as Polars' stable sort of the whole table.
        #[test]
        fn the_same_order_as_a_full_stable_sort(
            rows in prop::collection::vec((
                prop::option::of(prop::sample::select(vec!["A", "B", "C", "AA"])),
                prop::option::of(prop::sample::select(vec![0.0, 0.25, 0.5, 1.0, f64::NAN])),
                prop::option::of(prop::sample::select(vec!["a", "b", "c"])),
            ), 0..60)
        ) {
            let keys: Vec<Option<&str>> = rows.iter().map(|r| r.0).collect();
            let risks: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
            let ids: Vec<Option<&str>> = rows.iter().map(|r| r.2).collect();
            let frame = df!("k" => keys, "r" => risks, "id" => ids, "row" => (0..rows.len() as u32).collect::<Vec<_>>())
                .expect("frame");
            let expected: Vec<u32> = frame
                .sort(
                    ["k", "r", "id"],
                    SortMultipleOptions::default()
                        .with_order_descending_multi([false, true, false])
                        .with_maintain_order(true),
                )
                .expect("sort")
                .column("row")
                .expect("row")
                .u32()
                .expect("u32")
                .into_no_null_iter()
                .collect();
            let order: Vec<u32> = ranked_order(&frame, "k", "r", "id")
                .expect("order")
                .into_no_null_iter()
                .collect();
            prop_assert_eq!(order, expected);
        }
    }
}
