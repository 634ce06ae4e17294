//! The signal that an instance is closing, watched by everything its reader thread runs.

use futures_lite::FutureExt;
use smol::channel::{Receiver, Sender};
use std::time::Duration;

/// Makes a pair: the [`Stop`] the reader watches, and the sender whose drop sets it.
pub(crate) fn pair() -> (Sender<()>, Stop) {
    let (tx, rx) = smol::channel::bounded::<()>(1);
    (tx, Stop(rx))
}

/// Tells the reader to stop; it watches the receiving end.
#[derive(Clone)]
pub(crate) struct Stop(Receiver<()>);

impl Stop {
    /// Resolves when the instance is closing.
    pub(crate) async fn wait(&self) {
        // The sender never sends: the channel closing is the signal.
        let _ = self.0.recv().await;
    }

    /// Whether the instance is closing.
    pub(crate) fn is_set(&self) -> bool {
        self.0.is_closed()
    }

    /// Waits `delay`, or less if the instance closes meanwhile; true when it closed.
    pub(crate) async fn sleep(&self, delay: Duration) -> bool {
        async {
            smol::Timer::after(delay).await;
            false
        }
        .or(async {
            self.wait().await;
            true
        })
        .await
    }
}
