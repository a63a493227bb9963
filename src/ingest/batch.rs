//! Collecting many lazy plans in one streaming pass.
//!
//! Validation summaries and feature aggregations all start from the same
//! validated rows of each event table. Collected one by one, every plan reads,
//! parses and joins the table again; collected together, Polars' common
//! subplan elimination runs the shared part once and feeds every consumer
//! from it (one physical plan on the streaming engine). Stages register their
//! plans in a [`Batch`], the batch is collected once, and each stage takes its
//! results back by [`Slot`].

use polars::prelude::*;

/// Where a registered plan's result will be in the [`Collected`] frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

/// Plans to run together.
#[derive(Default)]
pub struct Batch {
    plans: Vec<LazyFrame>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Registers `plan`; its result is taken back with [`Collected::take`].
    pub fn add(&mut self, plan: LazyFrame) -> Slot {
        self.plans.push(plan);
        Slot(self.plans.len() - 1)
    }

    /// Runs every registered plan in one streaming pass.
    pub fn collect(self) -> PolarsResult<Collected> {
        let frames = match self.plans.len() {
            0 => Vec::new(),
            1 => self
                .plans
                .into_iter()
                .map(super::collect_streaming)
                .collect::<PolarsResult<Vec<_>>>()?,
            _ => {
                let optimizations = self.plans[0].get_current_optimizations();
                let plans = self.plans.into_iter().map(|p| p.logical_plan).collect();
                LazyFrame::collect_all_with_engine(plans, Engine::Streaming, optimizations)?
            }
        };
        Ok(Collected {
            frames: frames.into_iter().map(Some).collect(),
        })
    }
}

/// The results of a collected [`Batch`].
pub struct Collected {
    frames: Vec<Option<DataFrame>>,
}

impl Collected {
    /// The result of the plan registered at `slot` (each result can be taken once).
    pub fn take(&mut self, slot: Slot) -> PolarsResult<DataFrame> {
        self.frames
            .get_mut(slot.0)
            .and_then(Option::take)
            .ok_or_else(|| polars_err!(ComputeError: "batch result {} taken twice or never registered", slot.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_gets_its_own_result_and_shared_work_runs_once() -> PolarsResult<()> {
        let rows = df!("k" => [1, 1, 2, 3], "v" => [10, 20, 30, 40])?.lazy();
        let shared = rows.with_column((col("v") * lit(2)).alias("w"));
        let mut batch = Batch::new();
        let total = batch.add(shared.clone().select([col("w").sum()]));
        let by_key = batch.add(
            shared
                .group_by([col("k")])
                .agg([col("w").sum()])
                .sort(["k"], Default::default()),
        );
        let mut got = batch.collect()?;
        // 2 × (10 + 20 + 30 + 40) = 200; by key: 1 → 60, 2 → 60, 3 → 80.
        let by_key = got.take(by_key)?;
        assert_eq!(
            by_key
                .column("w")?
                .i32()?
                .into_no_null_iter()
                .collect::<Vec<_>>(),
            [60, 60, 80]
        );
        assert_eq!(got.take(total)?.column("w")?.i32()?.get(0), Some(200));
        assert!(got.take(total).is_err(), "a result is taken once");
        Ok(())
    }

    #[test]
    fn an_empty_batch_collects_to_nothing() -> PolarsResult<()> {
        let mut got = Batch::new().collect()?;
        assert!(got.take(Slot(0)).is_err());
        Ok(())
    }
}
