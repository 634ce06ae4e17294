//! What the fault and backfill tests observe of the plugin: its metrics through the C ABI,
//! the lines it logged, how `next_batch` answers, and this process's memory and CPU time.

#![allow(dead_code)]

use crate::support::{self, Batch, Event, Instance};
use std::time::{Duration, Instant};

/// The value of metric `name` (panics when the plugin does not report it).
pub fn metric(inst: &mut Instance<'_>, name: &str) -> u64 {
    *inst
        .host
        .metrics()
        .get(name)
        .unwrap_or_else(|| panic!("no metric {name}")) as u64
}

/// Waits (up to `within`) until metric `name` reaches `want`, for what happens on another
/// stream or thread than the events a test collected. Meanwhile nothing else may arrive: no
/// event, and no end of the source.
#[track_caller]
pub fn wait_metric(inst: &mut Instance<'_>, name: &str, want: u64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got = metric(inst, name);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is still {got} after {within:?}, want {want}"
        );
        let (more, end) = inst.collect(usize::MAX, Duration::from_millis(50));
        assert!(more.is_empty() && end.is_none(), "{more:?} {end:?}");
    }
}

/// Asserts each `(metric, value)`, reporting every mismatch at once.
#[track_caller]
pub fn assert_metrics(inst: &mut Instance<'_>, want: &[(&str, u64)]) {
    let all = inst.host.metrics();
    let wrong: Vec<String> = want
        .iter()
        .filter_map(|(name, v)| {
            let got = all.get(*name).map(|g| *g as u64);
            (got != Some(*v)).then(|| format!("{name}: {got:?}, want {v}"))
        })
        .collect();
    assert!(wrong.is_empty(), "metrics: {wrong:#?}");
}

/// The messages the plugin logged so far (any instance in this process) containing every
/// needle. Not counted: the SDK's echo of each error `next_batch` returns ("Plugin error: …"),
/// which only debug builds of the SDK write.
pub fn logged(needles: &[&str]) -> Vec<String> {
    support::captured_logs()
        .into_iter()
        .map(|l| l.message)
        .filter(|m| !m.contains("] Plugin error: "))
        .filter(|m| needles.iter().all(|n| m.contains(n)))
        .collect()
}

/// Asserts exactly one line containing every needle was logged, and returns it.
#[track_caller]
pub fn logged_once(needles: &[&str]) -> String {
    let lines = logged(needles);
    assert_eq!(lines.len(), 1, "lines with {needles:?}: {lines:#?}");
    lines.into_iter().next().unwrap()
}

/// Polls `next_batch` until the source fails; returns its message.
pub fn wait_failure(inst: &mut Instance<'_>, within: Duration) -> String {
    let end = Instant::now() + within;
    while Instant::now() < end {
        match inst.next_batch() {
            Batch::Failure(msg) => return msg,
            Batch::Events(ev) => panic!("unexpected events: {ev:?}"),
            Batch::Eof => panic!("unexpected EOF"),
            Batch::Timeout => {}
        }
    }
    panic!("no failure within {within:?}");
}

/// Polls `next_batch` for `during`, asserting no event arrives and the source stays up.
pub fn assert_quiet(inst: &mut Instance<'_>, during: Duration) {
    let (events, end) = inst.collect(usize::MAX, during);
    assert!(events.is_empty(), "unexpected events: {events:?}");
    assert!(end.is_none(), "the source ended: {end:?}");
}

/// Collects `want` events (failing on an end of the source), then checks for `settle` that
/// no further event arrives.
#[track_caller]
pub fn collect_exactly(inst: &mut Instance<'_>, want: usize, within: Duration) -> Vec<Event> {
    let (mut events, end) = inst.collect(want, within);
    assert!(end.is_none(), "the source ended: {end:?}");
    let (more, end) = inst.collect(usize::MAX, Duration::from_millis(300));
    assert!(end.is_none(), "the source ended: {end:?}");
    events.extend(more);
    assert_eq!(events.len(), want, "events delivered");
    events
}

/// Resident set size of this process, in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// Peak resident set size of this process so far, in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A `VmRSS:`-like line of /proc/self/status, in KiB. Panics when it cannot be read: a
/// check built on a measurement must fail, not pass, when there is none.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| panic!("cannot read /proc/self/status: {e}"));
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {key} line in /proc/self/status"))
}

/// CPU time (user + system) this process used so far.
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time (user + system) of the plugin's reader threads (named `k8saudit-ovh`) so far.
/// Panics when there is none, or /proc cannot tell (see [`thread_cpu_time`]).
pub fn reader_cpu_time() -> Duration {
    thread_cpu_time("k8saudit-ovh").expect("no reader thread (k8saudit-ovh) to measure")
}

/// CPU time (user + system) so far of the live threads of this process named `name`; None
/// when there is none. Panics when /proc cannot be read or a thread's stat line cannot be
/// parsed: a check built on it must fail, not pass, when there is no measurement. A thread
/// that ended between the listing and the read is skipped.
pub fn thread_cpu_time(name: &str) -> Option<Duration> {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    let mut found = false;
    let tasks = std::fs::read_dir("/proc/self/task")
        .unwrap_or_else(|e| panic!("cannot list /proc/self/task: {e}"));
    for task in tasks.flatten() {
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(task.path().join("comm")),
            std::fs::read_to_string(task.path().join("stat")),
        ) else {
            continue;
        };
        if comm.trim() != name {
            continue;
        }
        found = true;
        // Fields after the parenthesised name: state is field 3; utime, stime are 14, 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| -> f64 {
            fields
                .get(i - 3)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("cannot read field {i} of {stat:?}"))
        };
        total += ticks(14) + ticks(15);
    }
    found.then(|| Duration::from_secs_f64(total / tick))
}
