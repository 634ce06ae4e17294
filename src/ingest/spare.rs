//! Payload buffers going round: `next_batch` gives back each event's payload once Falco has
//! its copy, and the decoder decodes the next payloads into them.
//!
//! Without this, every payload is allocated by the thread that decodes it and freed by
//! Falco's thread. Besides the cost of a malloc and a free per event, freeing a buffer that
//! another thread allocated takes that thread's malloc arena lock, which the decoding thread
//! takes for its own allocations: the two then wait on each other, event after event.

use crate::ingest::frame::Scratch;
use std::sync::{Arc, Mutex};

/// Buffers kept at most; the others are freed.
const KEEP: usize = 512;
/// Bytes kept at most, all buffers together: big events must not leave megabytes idle.
const KEEP_BYTES: usize = 2 << 20;
/// Buffers larger than this are freed rather than kept (payloads are usually 1-4 kB).
const MAX_CAPACITY: usize = 64 << 10;
/// Buffers a decoding thread takes at once.
const TAKE: usize = 32;

/// The buffers given back and not yet taken.
#[derive(Debug, Default)]
pub(crate) struct Spares(Mutex<Kept>);

#[derive(Debug, Default)]
struct Kept {
    bufs: Vec<Vec<u8>>,
    /// Their capacities, added up.
    bytes: usize,
}

impl Spares {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // Nothing done under the lock can leave it inconsistent in a harmful way.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps what it can of `bufs` (emptied; what is not kept is freed).
    pub(crate) fn give(&self, bufs: &mut Vec<Vec<u8>>) {
        let mut kept = self.lock();
        for buf in bufs.drain(..) {
            let size = buf.capacity();
            if size == 0 || size > MAX_CAPACITY {
                continue;
            }
            if kept.bufs.len() == KEEP || kept.bytes + size > KEEP_BYTES {
                break;
            }
            kept.bytes += size;
            kept.bufs.push(buf);
        }
    }

    /// Moves up to `n` buffers into `into`.
    pub(crate) fn take(&self, n: usize, into: &mut Vec<Vec<u8>>) {
        let mut kept = self.lock();
        let from = kept.bufs.len().saturating_sub(n);
        let taken: usize = kept.bufs[from..].iter().map(Vec::capacity).sum();
        kept.bytes -= taken;
        into.extend(kept.bufs.drain(from..));
    }
}

/// A decoding thread's buffers: its [`Scratch`], its payload buffer taken from the spares.
#[derive(Debug)]
pub(crate) struct Buffers {
    spares: Arc<Spares>,
    scratch: Scratch,
    taken: Vec<Vec<u8>>,
}

impl Buffers {
    pub(crate) fn new(spares: Arc<Spares>) -> Self {
        Self {
            spares,
            scratch: Scratch::default(),
            taken: Vec::new(),
        }
    }

    /// Where the payload buffers come from.
    pub(crate) fn spares(&self) -> &Arc<Spares> {
        &self.spares
    }

    /// The scratch to decode the next frame with: with a spare payload buffer, if any.
    pub(crate) fn scratch(&mut self) -> &mut Scratch {
        if self.scratch.payload.capacity() == 0 {
            if self.taken.is_empty() {
                self.spares.take(TAKE, &mut self.taken);
            }
            if let Some(buf) = self.taken.pop() {
                self.scratch.payload = buf;
            }
        }
        &mut self.scratch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_bounded_number_of_reasonable_buffers() {
        let spares = Spares::default();
        let mut bufs: Vec<Vec<u8>> = (0..KEEP + 10).map(|_| Vec::with_capacity(100)).collect();
        bufs.push(Vec::new());
        bufs.push(Vec::with_capacity(MAX_CAPACITY + 1));
        spares.give(&mut bufs);
        assert!(bufs.is_empty());
        let mut got = Vec::new();
        spares.take(KEEP * 2, &mut got);
        assert_eq!(got.len(), KEEP);
        assert!(got.iter().all(|b| b.capacity() == 100));
        spares.take(1, &mut got);
        assert_eq!(got.len(), KEEP, "nothing left");
    }

    #[test]
    fn keeps_a_bounded_number_of_bytes() {
        let spares = Spares::default();
        let big = MAX_CAPACITY;
        let mut bufs: Vec<Vec<u8>> = (0..KEEP).map(|_| Vec::with_capacity(big)).collect();
        bufs.insert(0, Vec::with_capacity(MAX_CAPACITY * 100));
        spares.give(&mut bufs);
        assert!(bufs.is_empty());
        let mut got = Vec::new();
        spares.take(KEEP, &mut got);
        assert_eq!(got.len(), KEEP_BYTES / big);
        // What was taken is room again.
        spares.give(&mut got);
        spares.take(1, &mut got);
        assert_eq!(got.len(), 1);
        assert_eq!(spares.lock().bytes, KEEP_BYTES - big);
    }

    #[test]
    fn takes_at_most_what_is_asked() {
        let spares = Spares::default();
        spares.give(&mut (0..5).map(|_| Vec::with_capacity(8)).collect());
        let mut got = Vec::new();
        spares.take(3, &mut got);
        assert_eq!(got.len(), 3);
        spares.take(3, &mut got);
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn scratch_payload_buffers_come_from_the_spares() {
        let spares = Arc::new(Spares::default());
        let mut buffers = Buffers::new(Arc::clone(&spares));
        assert_eq!(buffers.scratch().payload.capacity(), 0, "none spare yet");
        spares.give(&mut vec![Vec::with_capacity(4096)]);
        assert_eq!(buffers.scratch().payload.capacity(), 4096);
        let mut left = Vec::new();
        spares.take(KEEP, &mut left);
        assert!(left.is_empty(), "taken by the scratch");
    }
}
