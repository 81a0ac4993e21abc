//! Where the CPU time of a run goes (Linux `/proc`): the whole machine's busy time, a
//! process's, and the SQLite writer thread's. Divided by the messages of an ingest run, it
//! tells what a message costs each part, against the budget the two CPUs allow at a target
//! rate.

use std::time::Duration;

/// The SQLite writer thread's name as the kernel keeps it (15 bytes of `charla-sqlite-writer`).
const WRITER_COMM: &str = "charla-sqlite-w";

/// The kernel's tick in `/proc/stat` (USER_HZ: 100 on every Linux ABI).
const TICK: Duration = Duration::from_millis(10);

/// CPU time used so far by a process: all its threads alive now, and its writer thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessCpu {
    pub total: Duration,
    pub writer: Option<Duration>,
}

/// What [`sample`] reads at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Busy time of every CPU of the machine (user, system, interrupts; not idle, I/O wait or
    /// steal), summed.
    pub machine: Option<Duration>,
    /// The server process (None in-process).
    pub server: Option<ProcessCpu>,
    /// This process: the load generator, or in-process the store and its callers.
    pub bench: Option<ProcessCpu>,
}

/// CPU time of each part at this moment. `server`: the server's process id, if it runs apart.
pub fn sample(server: Option<u32>) -> Sample {
    Sample { machine: machine_busy(), server: server.and_then(process), bench: process(std::process::id()) }
}

/// The machine's busy time, from the first line of `/proc/stat`.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.strip_prefix("cpu ")?.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: u64 = [0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum();
    Some(TICK * u32::try_from(busy).ok()?)
}

/// A process's CPU time, from each thread's `schedstat` (nanoseconds on a CPU). Threads that
/// ended are not counted: the scenarios measured keep theirs for the whole run.
fn process(pid: u32) -> Option<ProcessCpu> {
    let mut cpu = ProcessCpu::default();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let path = task.path();
        let Some(ns) = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        else {
            continue;
        };
        let t = Duration::from_nanos(ns);
        cpu.total += t;
        if std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim_end() == WRITER_COMM) {
            cpu.writer = Some(cpu.writer.unwrap_or_default() + t);
        }
    }
    Some(cpu)
}

/// What each part spent between two samples, in microseconds per message.
#[derive(Debug, Clone, Copy)]
pub struct PerMessage {
    pub machine: Option<f64>,
    pub server: Option<f64>,
    pub writer: Option<f64>,
    pub bench: Option<f64>,
}

impl PerMessage {
    pub fn between(a: &Sample, b: &Sample, messages: u64) -> PerMessage {
        let per = |x: Option<Duration>, y: Option<Duration>| -> Option<f64> {
            let d = y?.checked_sub(x?)?;
            (messages > 0).then(|| d.as_secs_f64() * 1e6 / messages as f64)
        };
        // One figure of a process (`part` of its samples) between the two samples.
        let of = |x: Option<ProcessCpu>, y: Option<ProcessCpu>, part: fn(&ProcessCpu) -> Option<Duration>| {
            per(x.as_ref().and_then(part), y.as_ref().and_then(part))
        };
        let total = |p: &ProcessCpu| Some(p.total);
        let writer = |p: &ProcessCpu| p.writer;
        PerMessage {
            machine: per(a.machine, b.machine),
            server: of(a.server, b.server, total),
            // The server's writer, or in-process the bench's own.
            writer: of(a.server, b.server, writer).or_else(|| of(a.bench, b.bench, writer)),
            bench: of(a.bench, b.bench, total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_grows_with_work_and_is_shared_out_per_message() {
        let a = sample(None);
        let until = std::time::Instant::now() + Duration::from_millis(60);
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let b = sample(None);
        let per = PerMessage::between(&a, &b, 1000);
        let bench = per.bench.expect("this process's CPU time");
        // 60 ms of spinning over 1,000 messages: at least about 60 µs each for this process.
        assert!(bench >= 50.0, "{per:?}");
        assert!(per.machine.expect("machine busy time") >= 40.0, "{per:?}");
        assert!(per.server.is_none() && per.writer.is_none(), "{per:?}");
    }
}
