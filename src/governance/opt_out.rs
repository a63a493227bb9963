//! The national opt-out and secondary-use rules: who may be counted in
//! planning outputs and used for training or evaluation. Direct care (the
//! clinical lists) is not a secondary use, so the opt-out does not apply there.

use polars::prelude::*;

use crate::ingest::PID;

use super::Result;

/// The people of `people` who may be used for secondary purposes (planning,
/// training, evaluation): no National Data Opt-out and no Type 1 objection.
/// `patients` is the validated patients table holding the two flags.
pub fn secondary_use(people: &DataFrame, patients: &DataFrame) -> Result<DataFrame> {
    let mask: BooleanChunked = secondary_use_mask(people, patients)?.into_iter().collect();
    Ok(people.filter(&mask)?)
}

/// Whether each row of `people` may be used for secondary purposes (see
/// [`secondary_use`]): a lookup by PID (dense 0..n), no join and no copy.
/// A person with an unknown flag is not known to allow use, so is excluded.
pub fn secondary_use_mask(people: &DataFrame, patients: &DataFrame) -> Result<Vec<bool>> {
    let mut allowed = vec![false; patients.height()];
    let national = patients.column("opt_out_national")?.bool()?;
    let type1 = patients.column("opt_out_type1")?.bool()?;
    let pids = patients.column(PID)?.u32()?;
    for ((pid, national), type1) in pids.iter().zip(national.iter()).zip(type1.iter()) {
        if let Some(slot) = pid.and_then(|p| allowed.get_mut(p as usize)) {
            *slot = national == Some(false) && type1 == Some(false);
        }
    }
    Ok(people
        .column(PID)?
        .u32()?
        .iter()
        .map(|pid| {
            pid.and_then(|p| allowed.get(p as usize).copied())
                .unwrap_or(false)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secondary_use_keeps_people_with_neither_opt_out_whatever_their_order() {
        // PIDs 0..5: 1 national opt-out, 2 Type 1, 3 an unknown flag (not
        // known to allow use), 0 and 4 neither.
        let patients = df!(
            PID => [0u32, 1, 2, 3, 4],
            "opt_out_national" => [Some(false), Some(true), Some(false), None, Some(false)],
            "opt_out_type1" => [Some(false), Some(false), Some(true), Some(false), Some(false)],
        )
        .unwrap();
        let people = df!(
            PID => [4u32, 3, 2, 1, 0],
            "risk" => [0.4, 0.3, 0.2, 0.1, 0.0],
        )
        .unwrap();
        let kept = secondary_use(&people, &patients).unwrap();
        let pids: Vec<u32> = kept
            .column(PID)
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(pids, [4, 0]);
        assert_eq!(kept.width(), 2);
    }
}
