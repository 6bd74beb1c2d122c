//! The simulated key's state file: `token.json` read and saved atomically under the lock
//! file, with the signature counter kept in place beside it ([`super::sim_counter`]). Every
//! change to the simulated key goes through [`SimToken::with_lock`].

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use zeroize::Zeroizing;

use super::{state_err, SimToken, State, TokenError, LOCK_FILE, STATE_FILE};
use crate::delivery::atomic;
use crate::token::sim_counter;

impl SimToken {
    /// Runs `f` on the freshest state under the lock, then saves it atomically.
    pub(super) fn with_lock<T>(
        &mut self,
        f: impl FnOnce(&mut State) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        self.with_lock_deferring(false, f)
    }

    /// [`Self::with_lock`]; with `defer`, a change of the counter alone is written without a
    /// barrier (a silent assertion under [`Self::defer_silent_counter`]).
    ///
    /// The counter never goes back behind a value that left the process:
    /// - killed (SIGKILL, a panic) after a deferred write: the value is in the kernel's page
    ///   cache, every later reader sees it; only a power loss or a kernel crash can lose it;
    /// - power lost after a deferred write and before the next barrier: the file may hold the
    ///   value before it (a torn slot leaves the other slot, which holds that value too), so the
    ///   key may sign that value again — but it was only ever in the memory of the process that
    ///   died with the machine: a mint keeps it to know the key holds the CA (it is never
    ///   printed, recorded or signed into a certificate), `log --verify` persists it before it
    ///   records or prints it;
    /// - the signature's own write is durable (`fdatasync` flushes the whole file, both slots)
    ///   before the assertion is returned; if it fails, the assertion is dropped, never released;
    /// - a change beyond the counter rewrites `token.json` durably with the larger counter, which
    ///   covers a deferred value too;
    /// - a process that ends without a later barrier (a mint refused at the touch) syncs in
    ///   `Drop`; should that fail, the case of the power loss above applies.
    pub(super) fn with_lock_deferring<T>(
        &mut self,
        defer: bool,
        f: impl FnOnce(&mut State) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        crate::delivery::atomic::recover(&self.dir);
        // Every directory we create is 0700 from the start, whatever the umask; one that
        // already exists (BREAKGLASS_SIM_DIR=/tmp, say) is never chmodded.
        if !self.dir.is_dir() {
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| state_err(&self.dir, format!("cannot create it: {e}")))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.dir.join(LOCK_FILE))
            .map_err(|e| state_err(&self.dir, format!("cannot open its lock file: {e}")))?;
        lock.lock()
            .map_err(|e| state_err(&self.dir, format!("cannot lock it: {e}")))?;
        let path = self.dir.join(STATE_FILE);
        let mut state = match fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                serde_json::from_slice::<State>(&bytes).map_err(|e| {
                    state_err(&self.dir, format!("{STATE_FILE} does not parse ({e})"))
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.state.clone(),
            Err(e) => {
                return Err(state_err(
                    &self.dir,
                    format!("cannot read {STATE_FILE}: {e}"),
                ))
            }
        };
        if state.format != 1 {
            return Err(state_err(
                &self.dir,
                format!("unknown state format {}", state.format),
            ));
        }
        // The counter is the larger of token.json's and the counter file's (sim_counter.rs).
        if let Some(c) = sim_counter::read(&self.dir) {
            state.counter = state.counter.max(c);
        }
        let counter_before = state.counter;
        let before = serde_json::to_vec(&state).map(Zeroizing::new);
        let result = f(&mut state);
        // Save even when f failed: PIN counters must persist across wrong answers.
        let after = serde_json::to_vec_pretty(&state)
            .map(Zeroizing::new)
            .map_err(|e| state_err(&self.dir, e.to_string()))?;
        let same_as_before = |st: &State| match &before {
            Ok(b) => serde_json::to_vec(st).map(|a| a == **b).unwrap_or(false),
            Err(_) => false,
        };
        let exists = path.exists();
        let changed = !same_as_before(&state) || !exists;
        // An assertion moves only the counter: one in-place write of the counter file.
        let only_counter = changed && exists && state.counter != counter_before && {
            let counter = std::mem::replace(&mut state.counter, counter_before);
            let same = same_as_before(&state);
            state.counter = counter;
            same
        };
        let save_counter = |dir: &Path, value| {
            if defer {
                sim_counter::write_deferred(dir, value)
            } else {
                sim_counter::write(dir, value)
            }
            .map_err(|e| state_err(dir, format!("cannot save {}: {e}", sim_counter::FILE)))
        };
        if only_counter {
            save_counter(&self.dir, state.counter)?;
            self.unsynced = defer;
        } else if changed {
            atomic::write_all(&[atomic::PlannedFile::private(&path, after.to_vec())], true)
                .map_err(|e| state_err(&self.dir, format!("cannot save {STATE_FILE}: {e}")))?;
            self.unsynced = false;
        }
        self.state = state;
        drop(lock);
        result
    }
}
