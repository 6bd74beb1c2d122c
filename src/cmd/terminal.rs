//! The terminal implementation of [`Ui`]: prompts and notes on stderr, PINs from the terminal
//! (no echo) or from `BREAKGLASS_PIN` for unattended use.

use std::io::{IsTerminal, Write};

use zeroize::Zeroizing;

use crate::token::TokenError;
use crate::ui::Ui;
use crate::Result;

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
        eprintln!("{message}");
        let _ = std::io::stderr().flush();
    }

    fn pin(&mut self, prompt: &str) -> Result<Zeroizing<String>> {
        if let Some(v) = std::env::var_os("BREAKGLASS_PIN") {
            let s = Zeroizing::new(v.to_string_lossy().into_owned());
            return Ok(s);
        }
        if !std::io::stdin().is_terminal() && !std::path::Path::new("/dev/tty").exists() {
            return Err(TokenError::PinNeeded.into());
        }
        match rpassword::prompt_password(prompt) {
            Ok(p) => Ok(Zeroizing::new(p)),
            Err(_) => Err(TokenError::PinNeeded.into()),
        }
    }

    fn note(&mut self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}
