//! Where a stream stood when the last run stopped, kept across restarts (a file,
//! `checkpointFile`) and across Falco's in-process reloads (memory): the next open replays
//! the gap from there.
//!
//! The file is JSON, versioned, and names its stream by a SHA-256 of the address (token
//! included, so two streams on one LDP host differ) and by the redacted address, never the
//! token. It is written atomically: a temporary file in the same directory, fsync, rename,
//! fsync of the directory; mode 0600, as it holds the duplicate filter's secret. A file that
//! is missing is a first start; one that cannot be read, is corrupt, names another stream or
//! comes from the future is set aside with a warning and a counter, and the stream starts
//! live. Nothing about a checkpoint is ever fatal.

use super::ledger::Position;
use crate::config::TailUrl;
use crate::ingest::dedup::Keyer;
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The format's name and version, in every file.
const FORMAT: &str = "k8saudit-ovh checkpoint";
const VERSION: u64 = 1;
/// Clocks disagree: a file up to this far ahead of ours is not "from the future".
const CLOCK_SKEW: Duration = Duration::from_secs(300);
const NANOS: u64 = 1_000_000_000;

/// A stream's identity: SHA-256 of its address, token included, as hex. Names the stream in
/// files and in memory without keeping the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamId(String);

impl StreamId {
    pub(crate) fn of(url: &TailUrl) -> Self {
        let mut text = b"k8saudit-ovh stream\0".to_vec();
        text.extend_from_slice(url.expose_secret().as_bytes());
        let digest = openssl::sha::sha256(&text);
        StreamId(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// Why a checkpoint file was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejected(pub(crate) String);

/// The checkpoint text of `position`, for the stream `url`.
pub(crate) fn render(url: &TailUrl, id: &StreamId, position: &Position, now: u64) -> String {
    // Each event: its key, then its timestamp, 16 hex digits each.
    let keys: String = position
        .keys
        .iter()
        .map(|(k, ts)| format!("{k:016x}{ts:016x}"))
        .collect();
    let doc = json!({
        "format": FORMAT,
        "version": VERSION,
        "stream": { "address": url.to_string(), "id": id.0 },
        "savedAt": crate::ingest::audit::format_rfc3339(now, true),
        "covered": crate::ingest::audit::format_rfc3339(position.covered, true),
        "coveredNanos": position.covered,
        "dedup": {
            "secret": format!("{:016x}{:016x}", position.keyer.0[0], position.keyer.0[1]),
            "keys": keys,
        },
    });
    format!("{doc:#}\n")
}

/// Reads the checkpoint text of stream `id`; `now` (ns) judges "from the future".
pub(crate) fn parse(text: &str, id: &StreamId, now: u64) -> Result<Position, Rejected> {
    let corrupt = |what: &str| Rejected(format!("it is not a valid checkpoint ({what})"));
    let doc: Value = serde_json::from_str(text).map_err(|_| corrupt("not JSON"))?;
    if doc["format"] != FORMAT {
        return Err(corrupt("not a k8saudit-ovh checkpoint"));
    }
    if doc["version"] != VERSION {
        return Err(Rejected(format!(
            "it has format version {}; this plugin reads version {VERSION}",
            doc["version"]
        )));
    }
    if doc["stream"]["id"] != id.0.as_str() {
        let address = doc["stream"]["address"]
            .as_str()
            .unwrap_or("another address");
        return Err(Rejected(format!(
            "it belongs to another stream ({address}, or the same address with another token)"
        )));
    }
    let covered = doc["coveredNanos"]
        .as_u64()
        .filter(|c| *c > 0)
        .ok_or_else(|| corrupt("no coveredNanos"))?;
    if covered > now + CLOCK_SKEW.as_secs() * NANOS {
        return Err(Rejected(format!(
            "its position ({}) is in the future",
            crate::ingest::audit::format_rfc3339(covered, false)
        )));
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let secret = doc["dedup"]["secret"].as_str().unwrap_or("");
    let keyer = match (secret.len(), secret.get(..16), secret.get(16..)) {
        (32, Some(a), Some(b)) => Keyer([
            hex(a).ok_or_else(|| corrupt("bad secret"))?,
            hex(b).ok_or_else(|| corrupt("bad secret"))?,
        ]),
        _ => return Err(corrupt("bad secret")),
    };
    let packed = doc["dedup"]["keys"].as_str().unwrap_or("");
    if packed.len() % 32 != 0 || !packed.is_ascii() {
        return Err(corrupt("bad keys"));
    }
    let at = |i: usize| hex(&packed[i..i + 16]).ok_or_else(|| corrupt("bad keys"));
    let keys = (0..packed.len() / 32)
        .map(|i| Ok((at(i * 32)?, at(i * 32 + 16)?)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Position {
        covered,
        keyer,
        keys,
    })
}

/// Replaces `path` with `text` atomically: a temporary file beside it, written, synced and
/// renamed over it, then the directory synced; mode 0600.
pub(crate) fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = directory_of(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.as_deref().unwrap_or("checkpoint"),
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // A leftover temporary file keeps its old mode through `open`.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The directory a checkpoint file is in (`.` for a bare file name).
pub(crate) fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The file of stream `id` at `path`: `Ok(None)` when there is none yet.
pub(crate) fn read(path: &Path, id: &StreamId, now: u64) -> Result<Option<Position>, Rejected> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, id, now).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Rejected(format!("it cannot be read ({e})"))),
    }
}

/// Positions handed from a closed instance to the next open of the same stream in this
/// process (Falco's reloads close, destroy, init and open again, with the library loaded).
/// Bounded, and each expires: a stream not reopened soon is not resumed from memory.
static HANDED_OFF: Mutex<HandOffs> = Mutex::new(HandOffs::new());

/// Keeps `position` for the next open of stream `id` in this process.
pub(crate) fn hand_off(id: &StreamId, position: Position) {
    handed_off().put(id, position, Instant::now());
}

/// The position a closed instance of stream `id` left, if not older than `ttl`.
pub(crate) fn take_handed_off(id: &StreamId, ttl: Duration) -> Option<Position> {
    handed_off().take(id, ttl, Instant::now())
}

fn handed_off() -> std::sync::MutexGuard<'static, HandOffs> {
    HANDED_OFF.lock().unwrap_or_else(|e| e.into_inner())
}

/// Positions handed off, oldest first, one per stream, each with when it was left.
struct HandOffs(Vec<(StreamId, Position, Instant)>);

impl HandOffs {
    /// Streams remembered at most.
    const MAX: usize = 64;

    const fn new() -> Self {
        HandOffs(Vec::new())
    }

    /// Keeps `position` for stream `id`, in place of any it had; forgets the oldest stream
    /// when full.
    fn put(&mut self, id: &StreamId, position: Position, now: Instant) {
        self.0.retain(|(other, _, _)| other != id);
        if self.0.len() == Self::MAX {
            self.0.remove(0);
        }
        self.0.push((id.clone(), position, now));
    }

    /// Takes the position of stream `id`, if left at most `ttl` before `now`; forgets the
    /// expired ones.
    fn take(&mut self, id: &StreamId, ttl: Duration, now: Instant) -> Option<Position> {
        self.0
            .retain(|(_, _, at)| now.saturating_duration_since(*at) <= ttl);
        let i = self.0.iter().position(|(other, _, _)| other == id)?;
        Some(self.0.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS;
    const TOKEN: &str = "S3cr3tT0kenWithoutDashes";

    fn url(token: &str) -> TailUrl {
        TailUrl::parse(&format!("wss://gra1.logs.ovh.com/tail/?tk={token}")).unwrap()
    }

    fn position() -> Position {
        Position {
            covered: 1_739_178_940 * S + 102_611_000,
            keyer: Keyer([0x0123_4567_89ab_cdef, 42]),
            keys: vec![(1, 7), (u64::MAX, 8), (0xdead_beef, 9)],
        }
    }

    #[test]
    fn a_checkpoint_reads_back_and_never_holds_the_token() {
        let (u, id) = (url(TOKEN), StreamId::of(&url(TOKEN)));
        let text = render(&u, &id, &position(), 1_739_179_000 * S);
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("tk=<redacted>"), "{text}");
        assert_eq!(parse(&text, &id, 1_739_179_000 * S), Ok(position()));
    }

    #[test]
    fn streams_are_told_apart_by_their_token_and_not_by_the_form_of_the_address() {
        assert_ne!(StreamId::of(&url(TOKEN)), StreamId::of(&url("other")));
        let scheme_less = TailUrl::parse(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}")).unwrap();
        assert_eq!(StreamId::of(&scheme_less), StreamId::of(&url(TOKEN)));
        let text = render(&url("other"), &StreamId::of(&url("other")), &position(), 0);
        let err = parse(&text, &StreamId::of(&url(TOKEN)), u64::MAX).unwrap_err();
        assert!(err.0.contains("another stream"), "{err:?}");
    }

    #[test]
    fn corrupt_unknown_and_future_files_are_rejected_with_a_reason() {
        let id = StreamId::of(&url(TOKEN));
        let good = render(&url(TOKEN), &id, &position(), 0);
        let now = 1_739_179_000 * S;
        for (text, why) in [
            ("".to_owned(), "not JSON"),
            (good[..good.len() / 2].to_owned(), "not JSON"),
            ("{}".to_owned(), "not a k8saudit-ovh checkpoint"),
            (
                good.replace("\"version\": 1", "\"version\": 9"),
                "version 9",
            ),
            (
                good.replace("0123456789abcdef", "0123456789abcdeX"),
                "bad secret",
            ),
            (
                good.replace("00000000deadbeef", "00000000deadbee"),
                "bad keys",
            ),
        ] {
            let err = parse(&text, &id, now).unwrap_err();
            assert!(err.0.contains(why), "{why}: {err:?}");
        }
        let err = parse(&good, &id, position().covered - 3600 * S).unwrap_err();
        assert!(err.0.contains("in the future"), "{err:?}");
        let zero = good.replace(
            &format!("\"coveredNanos\": {}", position().covered),
            "\"coveredNanos\": 0",
        );
        assert_ne!(zero, good);
        let err = parse(&zero, &id, now).unwrap_err();
        assert!(
            err.0.contains("no coveredNanos"),
            "a position of 0: {err:?}"
        );
    }

    #[test]
    fn a_file_up_to_five_minutes_ahead_of_our_clock_is_read() {
        let id = StreamId::of(&url(TOKEN));
        let good = render(&url(TOKEN), &id, &position(), 0);
        let covered = position().covered;
        for ahead in [299 * S, 300 * S] {
            assert_eq!(
                parse(&good, &id, covered - ahead),
                Ok(position()),
                "{ahead} ns ahead"
            );
        }
        let err = parse(&good, &id, covered - 300 * S - 1).unwrap_err();
        assert!(err.0.contains("in the future"), "{err:?}");
    }

    #[test]
    fn files_are_replaced_atomically_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("k8saudit-ovh-cp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stream.checkpoint");
        write_atomic(&path, "one").unwrap();
        write_atomic(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
        assert!(write_atomic(&dir.join("no/such/dir/file"), "x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_temporary_file_is_made_in_the_directory_of_the_checkpoint() {
        // The rename is atomic only within one file system: beside the file, never in the
        // working directory.
        for (path, dir) in [
            ("/var/lib/k8saudit-ovh/stream", "/var/lib/k8saudit-ovh"),
            ("state/stream", "state"),
            ("stream", "."),
            ("/stream", "/"),
        ] {
            assert_eq!(directory_of(Path::new(path)), Path::new(dir), "{path}");
        }
    }

    #[test]
    fn a_missing_file_is_a_first_start_and_an_unreadable_one_is_rejected() {
        let dir = std::env::temp_dir().join(format!("k8saudit-ovh-cpr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (u, id, now) = (url(TOKEN), StreamId::of(&url(TOKEN)), 1_739_179_000 * S);
        let path = dir.join("stream.checkpoint");
        assert_eq!(read(&path, &id, now), Ok(None), "no file yet");
        write_atomic(&path, &render(&u, &id, &position(), now)).unwrap();
        assert_eq!(read(&path, &id, now), Ok(Some(position())));
        // A directory where the file should be cannot be read as one.
        let err = read(&dir, &id, now).unwrap_err();
        assert!(err.0.contains("cannot be read"), "{err:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_hand_off_goes_to_the_same_stream_once_and_expires() {
        let (a, b) = (StreamId::of(&url("hand-a")), StreamId::of(&url("hand-b")));
        hand_off(&a, position());
        assert_eq!(take_handed_off(&b, Duration::from_secs(60)), None);
        assert_eq!(
            take_handed_off(&a, Duration::from_secs(60)),
            Some(position())
        );
        assert_eq!(take_handed_off(&a, Duration::from_secs(60)), None, "once");
        hand_off(&a, position());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            take_handed_off(&a, Duration::from_millis(10)),
            None,
            "expired"
        );
    }

    const MINUTE: Duration = Duration::from_secs(60);

    /// `position()`, covering up to `covered_secs`.
    fn at(covered_secs: u64) -> Position {
        Position {
            covered: covered_secs * S,
            ..position()
        }
    }

    #[test]
    fn a_stream_handed_off_again_keeps_only_its_newest_position_and_others_keep_theirs() {
        let (a, b) = (StreamId::of(&url("a")), StreamId::of(&url("b")));
        let (mut all, t0) = (HandOffs::new(), Instant::now());
        all.put(&a, at(1), t0);
        all.put(&b, at(2), t0);
        all.put(&a, at(3), t0);
        assert_eq!(all.take(&a, MINUTE, t0), Some(at(3)));
        assert_eq!(all.take(&a, MINUTE, t0), None, "the older one went");
        assert_eq!(all.take(&b, MINUTE, t0), Some(at(2)));
    }

    #[test]
    fn hand_offs_are_bounded_forgetting_the_oldest_stream_first() {
        let ids: Vec<_> = (0..=HandOffs::MAX)
            .map(|i| StreamId::of(&url(&format!("t{i}"))))
            .collect();
        let (mut all, t0) = (HandOffs::new(), Instant::now());
        for (i, id) in ids.iter().enumerate() {
            all.put(id, at(i as u64 + 1), t0);
        }
        assert_eq!(all.0.len(), HandOffs::MAX);
        assert_eq!(
            all.take(&ids[0], MINUTE, t0),
            None,
            "the oldest is forgotten"
        );
        for (i, id) in ids.iter().enumerate().skip(1) {
            assert_eq!(all.take(id, MINUTE, t0), Some(at(i as u64 + 1)), "{i}");
        }
    }

    #[test]
    fn a_hand_off_is_taken_up_to_its_time_to_live_and_not_after() {
        let (a, b) = (StreamId::of(&url("a")), StreamId::of(&url("b")));
        let (mut all, t0) = (HandOffs::new(), Instant::now());
        all.put(&a, at(1), t0);
        all.put(&b, at(2), t0);
        assert_eq!(
            all.take(&a, MINUTE, t0 + MINUTE),
            Some(at(1)),
            "at the limit"
        );
        all.put(&a, at(1), t0);
        let later = t0 + MINUTE + Duration::from_millis(1);
        assert_eq!(all.take(&a, MINUTE, later), None);
        // Expired hand-offs of other streams are forgotten too.
        assert_eq!(all.0.len(), 0);
        assert_eq!(all.take(&b, MINUTE, t0), None);
    }
}
