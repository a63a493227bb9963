//! Resident memory of this process, for logging what each pass costs.
//!
//! Linux only (`/proc/self`); elsewhere every figure is `None`. The peak of
//! one pass is found by sampling the resident set from a watcher thread, not
//! by resetting the kernel's high-water mark (`/proc/self/clear_refs`), which
//! would also lower the peak that `getrusage` and `/usr/bin/time` report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the watcher samples the resident set.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// Mebibytes resident now and at the process's peak so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub resident_mib: f64,
    pub peak_mib: f64,
}

/// The current and peak resident set, if the platform reports them.
pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status(&status)
}

/// Samples the resident set until stopped, keeping the largest value.
pub struct PeakWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<f64>>>,
}

impl PeakWatch {
    /// Starts sampling (no thread where the platform reports no memory).
    pub fn start() -> PeakWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = memory().is_some().then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut peak: Option<f64> = None;
                loop {
                    if let Some(m) = memory() {
                        peak = Some(peak.map_or(m.resident_mib, |p| p.max(m.resident_mib)));
                    }
                    if stop.load(Ordering::Relaxed) {
                        return peak;
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
        });
        PeakWatch { stop, thread }
    }

    /// The largest resident set seen since [`PeakWatch::start`], in MiB.
    pub fn stop(mut self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

impl Drop for PeakWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn parse_status(status: &str) -> Option<Memory> {
    let kib = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let value = line[key.len()..].trim().trim_end_matches("kB").trim();
        value.parse::<f64>().ok()
    };
    Some(Memory {
        resident_mib: kib("VmRSS:")? / 1024.0,
        peak_mib: kib("VmHWM:")? / 1024.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_resident_and_peak_from_proc_status() {
        let status = "Name:\tstrata\nVmPeak:\t 9999 kB\nVmHWM:\t    4096 kB\nVmRSS:\t    2048 kB\n";
        assert_eq!(
            parse_status(status),
            Some(Memory {
                resident_mib: 2.0,
                peak_mib: 4.0
            })
        );
        assert_eq!(parse_status("Name:\tstrata\n"), None);
    }

    #[test]
    fn the_watch_sees_memory_touched_while_it_runs() {
        if memory().is_none() {
            return; // not Linux: nothing to measure
        }
        let watch = PeakWatch::start();
        // 256 MiB, written so that it is resident, held for a few samples.
        let block = vec![1u8; 256 << 20];
        std::thread::sleep(SAMPLE_EVERY * 5);
        let touched: u64 = block.iter().step_by(4096).map(|b| u64::from(*b)).sum();
        let peak = watch.stop().expect("a peak on Linux");
        assert_eq!(touched, (256 << 20) / 4096);
        // Absolute, not relative to before: other tests in the same process
        // may free memory meanwhile, but the block alone keeps 256 MiB resident.
        assert!(peak >= 250.0, "peak {peak} MiB");
    }
}
