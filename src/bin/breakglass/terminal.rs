//! The terminal implementation of [`Ui`]: prompts and notes on stderr, PINs from the terminal
//! (no echo) or from `BREAKGLASS_PIN` for unattended use.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use breakglass::sanitize::sanitize;
use breakglass::ui::{PinPrompt, Ui};

/// Talks to the person at the terminal through stderr.
pub struct TerminalUi {
    quiet: bool,
    ticker: Option<Ticker>,
}

/// The live "waiting for touch… 12s" line: a thread rewriting one stderr line every second
/// until the key answers. Only on a terminal (a log file gets the one prompt line).
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Ticker {
    fn start() -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut shown = 0;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let secs = started.elapsed().as_secs();
                if secs > shown && !flag.load(Ordering::Relaxed) {
                    shown = secs;
                    let mut e = std::io::stderr().lock();
                    let _ = write!(e, "\r\x1b[Kwaiting for touch… {secs}s");
                    let _ = e.flush();
                }
            }
        });
        Ticker { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[K");
        let _ = e.flush();
    }
}

impl TerminalUi {
    /// A new terminal UI.
    pub fn new() -> Self {
        TerminalUi {
            quiet: false,
            ticker: None,
        }
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
        if std::io::stderr().is_terminal() && self.ticker.is_none() {
            self.ticker = Some(Ticker::start());
        }
    }

    fn touch_done(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.stop();
        }
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

    fn warning(&mut self, message: &str) {
        if !self.quiet {
            crate::output::warning(message);
        }
    }

    fn can_ask_again(&self) -> bool {
        std::env::var_os("BREAKGLASS_PIN").is_none() && std::io::stdin().is_terminal()
    }

    /// On a terminal, asks on stderr and reads the answer; off one, reads one line a script
    /// piped in (`y`/`yes` is yes), and end of input means there is no one to ask (`None`).
    fn confirm(&mut self, question: &str) -> Option<bool> {
        let person = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if person {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "{}", sanitize(question));
            let _ = e.flush();
        }
        let mut answer = String::new();
        match std::io::stdin().read_line(&mut answer) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if !person {
                    // A scripted answer: show the question and what answered it, as a log would.
                    crate::output::err(&format!("{}{}", question, answer.trim()));
                }
                Some(matches!(
                    answer.trim().to_ascii_lowercase().as_str(),
                    "y" | "yes"
                ))
            }
        }
    }
}
