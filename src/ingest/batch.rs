//! Collecting many lazy plans with one pass over each event table (and the
//! two ways every stage runs a plan: [`collect_streaming`], [`left_join_in_order`]).
//!
//! Validation summaries and feature aggregations all start from the same
//! validated rows of each event table. Collected one by one, every plan reads,
//! parses and joins the table again; collected together, Polars' common
//! subplan elimination runs the shared part once and feeds every consumer
//! from it (one physical plan on the streaming engine). Stages register their
//! plans in a [`Batch`] under the table they read, the batch is collected
//! table by table, and each stage takes its results back by [`Slot`].
//!
//! Table by table, not all at once: one `collect_all` over every table runs
//! all their pipelines concurrently and measured 4.8 GiB peak at 1M people
//! against 3.7 GiB for separate passes (benches/RESULTS.md, 2026-11-23).

use polars::prelude::*;

/// Runs a plan on Polars' streaming engine: event tables are processed in
/// morsels, so memory stays bounded as the extract grows (measured at 1M people:
/// `strata run` peak RSS 9.0 → 3.7 GiB and 355 → 106 s wall; docs/performance.md).
pub fn collect_streaming(plan: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(plan.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

/// A left join that keeps the left frame's row order, so results never
/// depend on hash-table iteration order.
pub fn left_join_in_order() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

/// Where a registered plan's result will be in the [`Collected`] frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

/// Plans to run, grouped by the table they read.
#[derive(Default)]
pub struct Batch {
    plans: Vec<(String, LazyFrame)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Registers `plan`, which reads `table`; its result is taken back with
    /// [`Collected::take`]. Plans of the same table are collected together.
    pub fn add(&mut self, table: &str, plan: LazyFrame) -> Slot {
        self.plans.push((table.to_string(), plan));
        Slot(self.plans.len() - 1)
    }

    /// Runs the registered plans, one streaming pass per table (in the order
    /// tables were first registered).
    pub fn collect(self) -> PolarsResult<Collected> {
        let mut frames: Vec<Option<DataFrame>> = vec![None; self.plans.len()];
        let mut tables: Vec<&str> = Vec::new();
        for (table, _) in &self.plans {
            if !tables.contains(&table.as_str()) {
                tables.push(table);
            }
        }
        for table in tables {
            let (slots, plans): (Vec<usize>, Vec<LazyFrame>) = self
                .plans
                .iter()
                .enumerate()
                .filter(|(_, (t, _))| t == table)
                .map(|(k, (_, plan))| (k, plan.clone()))
                .unzip();
            let watch = crate::usage::PeakWatch::start();
            let start = std::time::Instant::now();
            let results = collect_together(plans)?;
            log_pass(
                table,
                slots.len(),
                start.elapsed().as_secs_f64(),
                watch.stop(),
            );
            for (slot, frame) in slots.into_iter().zip(results) {
                frames[slot] = Some(frame);
            }
        }
        Ok(Collected { frames })
    }
}

/// Logs what one table's pass cost (never any value from the data): its
/// seconds and the largest resident set sampled during it.
fn log_pass(table: &str, plans: usize, seconds: f64, peak_mib: Option<f64>) {
    let resident_mib = crate::usage::memory().map(|m| m.resident_mib.round());
    tracing::info!(
        table,
        plans,
        seconds,
        peak_mib = peak_mib.map(f64::round),
        resident_mib,
        "table pass finished"
    );
}

/// Collects `plans` in one streaming pass, sharing their common subplans.
fn collect_together(mut plans: Vec<LazyFrame>) -> PolarsResult<Vec<DataFrame>> {
    if plans.len() == 1 {
        return Ok(vec![collect_streaming(plans.remove(0))?]);
    }
    let Some(first) = plans.first() else {
        return Ok(Vec::new());
    };
    let optimizations = first.get_current_optimizations();
    let plans = plans.into_iter().map(|p| p.logical_plan).collect();
    LazyFrame::collect_all_with_engine(plans, Engine::Streaming, optimizations)
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
        let total = batch.add("t", shared.clone().select([col("w").sum()]));
        let other = batch.add("u", df!("x" => [7])?.lazy());
        let by_key = batch.add(
            "t",
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
        assert_eq!(got.take(other)?.column("x")?.i32()?.get(0), Some(7));
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
