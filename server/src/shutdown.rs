//! The process-wide shutdown signal.
//!
//! [`signal_token`] returns the root `CancellationToken`, cancelled when SIGINT or SIGTERM
//! arrives. Tasks take `child_token()`s of it, so cancelling one subtree never stops the rest.
//! Signals after the first are ignored here: the drain deadline (`shutdown_timeout`) bounds how
//! long shutdown takes, and SIGKILL remains for the impatient.
//!
//! Not owned here: draining requests, flushing logs or writing checkpoints (`serve`).

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled on the first SIGINT or SIGTERM, logging which arrived.
///
/// Must be called inside a Tokio runtime; the listening task runs until a signal arrives.
///
/// # Errors
///
/// If a signal handler cannot be installed.
pub fn signal_token() -> std::io::Result<CancellationToken> {
    // Registered before returning, so a signal sent right after startup is not missed.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!(signal = name, "shutdown requested");
        cancel.cancel();
    });
    Ok(token)
}
