//! Keeping `ctap-hid-fido2`'s misbehaviour inside: what it prints goes to stderr (never into
//! breakglass's stdout), and a panic in it becomes text for an error.

/// While alive, file descriptor 1 points at stderr, so anything the crate `println!`s cannot
/// end up in breakglass's stdout (certificates, JSON). Restored on drop. Single-threaded use:
/// another thread printing to stdout meanwhile would land on stderr too.
pub struct StdoutToStderr {
    #[cfg(unix)]
    saved: Option<std::os::fd::OwnedFd>,
}

impl StdoutToStderr {
    /// Redirects fd 1 to fd 2 (no-op where that is impossible).
    pub fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        {
            use std::os::fd::{FromRawFd, OwnedFd};
            // SAFETY: dup/dup2 on the process's own standard descriptors; the duplicate is
            // owned by `saved` and closed exactly once.
            let saved = unsafe {
                let fd = libc::dup(1);
                if fd < 0 {
                    None
                } else if libc::dup2(2, 1) < 0 {
                    libc::close(fd);
                    None
                } else {
                    Some(OwnedFd::from_raw_fd(fd))
                }
            };
            StdoutToStderr { saved }
        }
        #[cfg(not(unix))]
        {
            StdoutToStderr {}
        }
    }
}

impl Default for StdoutToStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        if let Some(fd) = self.saved.take() {
            use std::os::fd::AsRawFd;
            // SAFETY: `fd` is a valid descriptor we own; dup2 restores the original stdout.
            unsafe {
                libc::dup2(fd.as_raw_fd(), 1);
            }
        }
    }
}

/// The text of a caught panic, for an error message.
pub(super) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
