//! The terminal implementation of [`Ui`]: prompts and notes on stderr, PINs from the terminal
//! (no echo) or from `BREAKGLASS_PIN` for unattended use.

use std::io::{IsTerminal, Write};

use zeroize::Zeroizing;

use breakglass::sanitize::sanitize;
use breakglass::ui::{PinPrompt, Ui};

/// Talks to the person at the terminal through stderr.
pub struct TerminalUi {
    quiet: bool,
}

impl TerminalUi {
    /// A new terminal UI.
    pub fn new() -> Self {
        TerminalUi { quiet: false }
    }
    /// Suppresses notes (for `--json`).
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }
}

impl Default for TerminalUi {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui for TerminalUi {
    fn touch_prompt(&mut self, message: &str) {
        crate::output::err(message);
        let _ = std::io::stderr().flush();
    }

    fn pin(&mut self, prompt: &PinPrompt) -> Option<Zeroizing<String>> {
        if let Some(v) = std::env::var_os("BREAKGLASS_PIN") {
            return Some(Zeroizing::new(v.to_string_lossy().into_owned()));
        }
        if !std::io::stdin().is_terminal() && !std::path::Path::new("/dev/tty").exists() {
            return None;
        }
        rpassword::prompt_password(sanitize(&prompt.text()))
            .ok()
            .map(Zeroizing::new)
    }

    fn note(&mut self, message: &str) {
        if !self.quiet {
            crate::output::err(message);
        }
    }

    /// Asks on stderr, reads one line from stdin: `y` or `yes` is yes, anything else (or end of
    /// input) is no.
    fn confirm(&mut self, question: &str) -> bool {
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "{} ", sanitize(question));
        let _ = e.flush();
        drop(e);
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            return false;
        }
        if line.is_empty() {
            crate::output::err("");
        }
        matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }
}
