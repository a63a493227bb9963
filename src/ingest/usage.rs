//! Resident memory of this process, for logging what each pass costs.
//!
//! Linux only (`/proc/self`); elsewhere every figure is `None`. The peak is
//! the kernel's high-water mark (`VmHWM`), which [`reset_peak`] clears so
//! that each pass over a table reports its own peak, not the run's.

/// Mebibytes resident now and at the peak since the last [`reset_peak`].
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

/// Clears the peak, so the next [`memory`] reports the peak from now on.
/// Best effort: where it cannot be cleared the peak is the process's.
pub fn reset_peak() {
    // "5" resets the high-water mark (proc(5), /proc/pid/clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
}
