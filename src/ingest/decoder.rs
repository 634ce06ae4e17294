//! Frame decoding, and the thread that does it while the reader reads on.
//!
//! Decoding a frame (two quoted JSON layers, then the audit payload, validated) costs more
//! than reading it off the TLS socket. On a busy stream the live sink hands frames to a
//! decoder thread of its own ([`Offload`]) and takes back what it made, in order: the
//! reader then reads, gates and queues, and opens the frames' envelopes only when the decoder
//! is the one behind, so that the two halves share two cores. On a quiet stream frames are
//! decoded on the reader thread, as a hand-off would cost more than it saves. Everything
//! stateful (the duplicate gate, the queue, the counters, the logs) stays
//! on the reader thread; the decoder is a pure function of the frame.

use crate::ingest::audit::{self, AuditEvent, Skipped};
use crate::ingest::frame::{self, Scratch};
use crate::ingest::spare::{Buffers, Spares};
use crate::metrics::SkipReason;
use async_tungstenite::tungstenite::{Bytes, Utf8Bytes};
use smol::channel::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Frames at most in the decoder's hands at once.
const MAX_IN_FLIGHT: usize = 256;
/// Frames handed over at once at most, when the reader is behind: each hand-off may wake the
/// decoder thread, and its answer the reader.
const BATCH: usize = 32;
/// Bytes of frames handed over at once at most: a batch of big frames (EventLists) goes
/// before the in-flight limit would stop the reader, so that the two threads keep working
/// side by side.
const BATCH_BYTES: usize = MAX_IN_FLIGHT_BYTES / 8;
/// Bytes of frames at most in its hands at once (one frame may be larger on its own).
const MAX_IN_FLIGHT_BYTES: usize = 4 << 20;
/// From half the in-flight limits (in frames or in bytes), the decoder is behind: the reader
/// opens the envelopes of the frames it hands over.
const OPEN_ON_READER: (usize, usize) = (MAX_IN_FLIGHT / 2, MAX_IN_FLIGHT_BYTES / 2);

/// A WebSocket message that carries data.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A text frame: tungstenite has validated its UTF-8.
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Frame {
    pub(crate) fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }
}

/// What one frame holds.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The frame's size in bytes.
    pub(crate) size: usize,
    /// Its audit events and what was skipped among them, or why the whole frame was.
    pub(crate) outcome: Result<(Events, Vec<Skipped>), SkipReason>,
}

/// A frame's audit events. Most frames hold one, which is kept without an allocation of its
/// own (that the reader thread would then free: see [`crate::ingest::spare`] for why that costs).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Events {
    first: Option<AuditEvent>,
    rest: Vec<AuditEvent>,
}

impl Events {
    fn push(&mut self, event: AuditEvent) {
        if self.first.is_none() {
            self.first = Some(event);
        } else {
            self.rest.push(event);
        }
    }
}

#[cfg(test)]
impl Events {
    fn iter(&self) -> impl Iterator<Item = &AuditEvent> {
        self.first.iter().chain(&self.rest)
    }
}

impl IntoIterator for Events {
    type Item = AuditEvent;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<AuditEvent>, std::vec::IntoIter<AuditEvent>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

/// Decodes `frame`, received at `received` (ns since the epoch: the timestamp of events
/// that have no other), with `scratch`'s buffers.
pub(crate) fn decode(
    frame: &Frame,
    received: u64,
    max_event_size: usize,
    scratch: &mut Scratch,
) -> Decoded {
    let payload = match frame {
        Frame::Text(t) => frame::decode_text_with(t.as_str(), scratch),
        Frame::Binary(b) => std::str::from_utf8(b)
            .map_err(|_| SkipReason::NotJson)
            .and_then(|t| frame::decode_text_with(t, scratch)),
    };
    finish(payload, frame.len(), received, max_event_size)
}

/// [`decode`] for a frame of unknown encoding (a line of a replay file).
pub(crate) fn decode_bytes(bytes: &[u8], received: u64, max_event_size: usize) -> Decoded {
    finish(frame::decode(bytes), bytes.len(), received, max_event_size)
}

fn finish(
    payload: Result<frame::Payload<'_>, SkipReason>,
    size: usize,
    received: u64,
    max_event_size: usize,
) -> Decoded {
    let outcome = payload.map(|payload| {
        let fallback = payload.gelf_timestamp.map(gelf_nanos).unwrap_or(received);
        let (mut events, mut skips) = (Events::default(), Vec::new());
        audit::split(
            payload.text,
            fallback,
            max_event_size,
            &mut |e| events.push(e),
            &mut |s| skips.push(s),
        );
        (events, skips)
    });
    Decoded { size, outcome }
}

/// GELF timestamps are float seconds with (at most) microsecond meaning; converting the
/// fraction on its own keeps `...05.25` from becoming `...05.249999872`.
fn gelf_nanos(t: f64) -> u64 {
    let secs = t.trunc();
    let micros = ((t - secs) * 1e6).round() as u64;
    (secs as u64) * 1_000_000_000 + micros * 1000
}

/// A frame for the decoder thread, and when it was received.
struct Job {
    work: Work,
    size: usize,
    received: u64,
}

/// What is left to do of a frame.
enum Work {
    /// The envelope is open (on the reader thread, which does it while the decoder is
    /// behind): the GELF document it held.
    Gelf(String),
    /// All of it (the decoder keeping up, binary frames, bare payloads).
    Frame(Frame),
    /// Nothing: the frame is skipped.
    Skip(SkipReason),
}

impl Job {
    /// `open`: open the envelope here and now (on the reader thread).
    fn new(frame: Frame, received: u64, open: bool) -> Self {
        let size = frame.len();
        let work = match &frame {
            Frame::Text(text) if open => match frame::envelope(text.as_str()) {
                Ok(frame::Envelope::Gelf(gelf)) => Work::Gelf(gelf),
                Ok(frame::Envelope::Bare(_)) => Work::Frame(frame),
                Err(reason) => Work::Skip(reason),
            },
            _ => Work::Frame(frame),
        };
        Self {
            work,
            size,
            received,
        }
    }

    fn run(&self, max_event_size: usize, scratch: &mut Scratch) -> Decoded {
        let payload = match &self.work {
            Work::Gelf(gelf) => {
                frame::gelf_payload_with(gelf, std::mem::take(&mut scratch.payload))
            }
            Work::Frame(frame) => return decode(frame, self.received, max_event_size, scratch),
            Work::Skip(reason) => Err(*reason),
        };
        finish(payload, self.size, self.received, max_event_size)
    }
}

/// What the decoder thread sends back for a batch: the frames decoded, or the panic that
/// decoding one raised (carried over to the reader thread, which turns it into the source's
/// fatal error as it does its own).
type Outcome = std::thread::Result<(Vec<Decoded>, Vec<Job>)>;

/// The decoder thread and the frames in its hands. Dropping it ends the thread.
pub(crate) struct Offload {
    jobs: Option<Sender<Vec<Job>>>,
    results: Receiver<Outcome>,
    /// Frames gathered for the next hand-off, and their bytes.
    gathered: Vec<Job>,
    gathered_bytes: usize,
    /// Frames back from the thread, not yet taken.
    ready: std::collections::VecDeque<Decoded>,
    /// Sizes of the frames in flight (gathered, with the thread, or ready), oldest first.
    in_flight: std::collections::VecDeque<usize>,
    in_flight_bytes: usize,
    thread: Option<JoinHandle<()>>,
}

impl Offload {
    /// Starts the decoder thread; it decodes payloads into buffers taken from `spares`.
    pub(crate) fn start(max_event_size: usize, spares: Arc<Spares>) -> std::io::Result<Self> {
        // Unbounded channels: what is in them is bounded by the in-flight limits.
        let (jobs, jobs_rx) = smol::channel::unbounded::<Vec<Job>>();
        let (results_tx, results) = smol::channel::unbounded::<Outcome>();
        let thread = std::thread::Builder::new()
            .name("k8saudit-ovh-dec".into())
            .spawn(move || {
                let mut buffers = Buffers::new(spares);
                while let Ok(batch) = jobs_rx.recv_blocking() {
                    // The frames go back with their results, to be freed by the thread that
                    // allocated them: freeing a buffer of another thread's malloc arena takes
                    // that arena's lock, which the reader takes for every frame it receives.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        crate::fault::injected_panic("decoder");
                        let decoded = batch
                            .iter()
                            .map(|job| job.run(max_event_size, buffers.scratch()))
                            .collect();
                        (decoded, batch)
                    }));
                    let panicked = outcome.is_err();
                    if results_tx.send_blocking(outcome).is_err() || panicked {
                        return;
                    }
                }
            })?;
        Ok(Self {
            jobs: Some(jobs),
            results,
            gathered: Vec::new(),
            gathered_bytes: 0,
            ready: Default::default(),
            in_flight: Default::default(),
            in_flight_bytes: 0,
            thread: Some(thread),
        })
    }

    /// Frames submitted and not yet taken back.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether a frame of `size` bytes must wait for room.
    pub(crate) fn full(&self, size: usize) -> bool {
        !self.in_flight.is_empty()
            && (self.in_flight.len() >= MAX_IN_FLIGHT
                || self.in_flight_bytes + size > MAX_IN_FLIGHT_BYTES)
    }

    /// Takes `frame` for decoding. It is handed to the thread with the frames that follow,
    /// up to [`BATCH`] frames or [`BATCH_BYTES`], or before, by [`Offload::flush`].
    pub(crate) fn submit(&mut self, frame: Frame, received: u64) {
        let open =
            self.in_flight.len() >= OPEN_ON_READER.0 || self.in_flight_bytes >= OPEN_ON_READER.1;
        self.in_flight.push_back(frame.len());
        self.in_flight_bytes += frame.len();
        self.gathered_bytes += frame.len();
        self.gathered.push(Job::new(frame, received, open));
        if self.gathered.len() >= BATCH || self.gathered_bytes >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Hands the frames gathered to the thread.
    pub(crate) fn flush(&mut self) {
        if self.gathered.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.gathered);
        self.gathered_bytes = 0;
        if let Some(jobs) = &self.jobs {
            // Unbounded, and the thread only goes away with us or after a panic it reports:
            // a batch it cannot take is answered by `result` (the thread ended).
            let _ = jobs.try_send(batch);
        }
    }

    /// The oldest frame's result, if it is ready.
    pub(crate) fn try_result(&mut self) -> Option<Decoded> {
        if self.ready.is_empty() {
            let outcome = self.results.try_recv().ok()?;
            self.arrived(outcome);
        }
        self.take()
    }

    /// The oldest frame's result, when it is ready. Only while a frame is in flight.
    pub(crate) async fn result(&mut self) -> Decoded {
        self.flush();
        loop {
            if let Some(decoded) = self.take() {
                return decoded;
            }
            match self.results.recv().await {
                Ok(outcome) => self.arrived(outcome),
                // The thread is gone without a word: it cannot be, short of an abort.
                Err(_) => panic!("the decoder thread ended unexpectedly"),
            }
        }
    }

    fn arrived(&mut self, outcome: Outcome) {
        match outcome {
            Ok((batch, _jobs)) => self.ready.extend(batch),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    fn take(&mut self) -> Option<Decoded> {
        let decoded = self.ready.pop_front()?;
        let size = self.in_flight.pop_front().unwrap_or(0);
        self.in_flight_bytes -= size.min(self.in_flight_bytes);
        Some(decoded)
    }
}

impl Drop for Offload {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(audit_id: &str) -> Frame {
        let event = format!(
            r#"{{"kind":"Event","auditID":"{audit_id}","stage":"ResponseComplete","stageTimestamp":"2025-02-10T09:15:40.102611Z"}}"#
        );
        let gelf = serde_json::json!({"version": "1.1", "short_message": event, "timestamp": 1739178940.5});
        Frame::Text(
            serde_json::json!({ "message": gelf.to_string() })
                .to_string()
                .into(),
        )
    }

    fn ids(d: &Decoded) -> Vec<String> {
        let (events, _) = d.outcome.as_ref().unwrap();
        events
            .iter()
            .map(|e| {
                let v: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
                v["auditID"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn decodes_text_and_binary_alike() {
        let scratch = &mut Scratch::default();
        let text = decode(&frame("a"), 7, 1 << 20, scratch);
        let Frame::Text(t) = frame("a") else {
            unreachable!()
        };
        let binary = decode(
            &Frame::Binary(Bytes::from(t.as_bytes().to_vec())),
            7,
            1 << 20,
            scratch,
        );
        assert_eq!(ids(&text), ["a"]);
        assert_eq!(text.outcome, binary.outcome);
        let first = text.outcome.unwrap().0.into_iter().next().unwrap();
        assert_eq!(first.ts, 1739178940102611000);
        let bad = decode(
            &Frame::Binary(Bytes::from_static(b"\xff{")),
            7,
            1 << 20,
            scratch,
        );
        assert_eq!(bad.outcome.unwrap_err(), SkipReason::NotJson);
        assert_eq!(bad.size, 2);
    }

    #[test]
    fn events_of_an_event_list_stay_in_order() {
        let list = serde_json::json!({"kind": "EventList", "items": (0..5)
            .map(|i| serde_json::json!({"kind": "Event", "auditID": i.to_string()}))
            .collect::<Vec<_>>()});
        let gelf = serde_json::json!({"short_message": list.to_string()});
        let frame = Frame::Text(
            serde_json::json!({ "message": gelf.to_string() })
                .to_string()
                .into(),
        );
        let decoded = decode(&frame, 7, 1 << 20, &mut Scratch::default());
        assert_eq!(ids(&decoded), ["0", "1", "2", "3", "4"]);
        let (events, _) = decoded.outcome.unwrap();
        let owned: Vec<serde_json::Value> = events
            .into_iter()
            .map(|e| serde_json::from_slice(&e.payload).unwrap())
            .collect();
        assert_eq!(owned[4]["auditID"], "4");
        assert_eq!(owned.len(), 5);
    }

    #[test]
    fn where_the_envelope_is_opened_changes_nothing() {
        let texts = [
            match frame("a") {
                Frame::Text(t) => t.as_str().to_owned(),
                Frame::Binary(_) => unreachable!(),
            },
            r#"{"kind":"Event","auditID":"bare"}"#.to_owned(),
            r#"{"message":"not gelf"}"#.to_owned(),
            r#"{"message":"{\"short_message\":\"{}\"}"}"#.to_owned(),
            "not json".to_owned(),
        ];
        for text in texts {
            let job = |open| Job::new(Frame::Text(text.clone().into()), 7, open);
            let (opened, whole) = (job(true), job(false));
            let scratch = &mut Scratch::default();
            let (a, b) = (opened.run(1 << 20, scratch), whole.run(1 << 20, scratch));
            assert_eq!((a.size, a.outcome), (b.size, b.outcome), "{text}");
        }
    }

    #[test]
    fn the_thread_gives_frames_back_in_order_within_its_limits() {
        let mut o = Offload::start(1 << 20, Default::default()).unwrap();
        let mut got = Vec::new();
        for i in 0..1000 {
            while o.full(100) {
                got.extend(ids(&smol::block_on(o.result())));
            }
            o.submit(frame(&i.to_string()), 0);
            assert!(o.in_flight() <= MAX_IN_FLIGHT);
            while let Some(d) = o.try_result() {
                got.extend(ids(&d));
            }
        }
        while o.in_flight() > 0 {
            got.extend(ids(&smol::block_on(o.result())));
        }
        let want: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        assert_eq!(got, want);
        assert_eq!(o.in_flight_bytes, 0);
    }

    #[test]
    fn a_big_frame_waits_for_an_empty_pipeline() {
        let mut o = Offload::start(1 << 20, Default::default()).unwrap();
        assert!(!o.full(MAX_IN_FLIGHT_BYTES * 2), "alone, any frame goes");
        o.submit(frame("a"), 0);
        assert!(o.full(MAX_IN_FLIGHT_BYTES));
        smol::block_on(o.result());
        assert!(!o.full(MAX_IN_FLIGHT_BYTES));
    }

    #[test]
    fn gelf_timestamps_keep_their_microseconds() {
        assert_eq!(gelf_nanos(1739178965.25), 1739178965250000000);
        assert_eq!(gelf_nanos(1739178940.103), 1739178940103000000);
    }
}
