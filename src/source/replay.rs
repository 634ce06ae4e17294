//! File replay: one JSON document per line (an LDP frame or a bare audit payload), then EOF.

use crate::ingest::sink::Sink;
use crate::metrics::ConnState;
use crate::source::stop::Stop;
use std::io::BufRead;
use std::path::Path;

/// Replays `path` into `sink`, line by line, then ends the source.
pub(crate) async fn run(path: &Path, sink: &mut Sink, stop: &Stop) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            sink.fatal(format!("cannot read replay file {}: {e}", path.display()))
                .await;
            return;
        }
    };
    sink.metrics().set_state(ConnState::Connected);
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        if stop.is_set() {
            return;
        }
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                sink.fatal(format!("error reading replay file {}: {e}", path.display()))
                    .await;
                return;
            }
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if sink.frame(text).await.is_err() {
            return;
        }
    }
    sink.eof().await;
}
