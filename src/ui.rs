//! Prompts and progress behind a trait, so the library never touches the terminal and tests can
//! script the answers. A leaf: it knows nothing of tokens. The terminal implementation lives in
//! the binary.

use zeroize::Zeroizing;

/// A request for a PIN: which device, and how many tries it has left (when it says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinPrompt {
    /// The device, e.g. "simulated key SIM-1A2B (SIMULATED)" or "YubiKey 123 (PIV)".
    pub device: String,
    /// Tries left before the PIN blocks, when fewer than the maximum.
    pub tries_left: Option<u8>,
}

impl PinPrompt {
    /// The line to show before reading the PIN.
    pub fn text(&self) -> String {
        match self.tries_left {
            Some(t) => format!("Enter PIN for {} ({t} tries left): ", self.device),
            None => format!("Enter PIN for {}: ", self.device),
        }
    }
}

/// What the library may ask of, or tell, the person at the keyboard.
pub trait Ui {
    /// Tells the user to touch the key; called *before* the blocking call.
    fn touch_prompt(&mut self, message: &str);
    /// Asks for a PIN, in a zeroizing buffer; `None` when there is no way to ask (the token
    /// turns that into its own error).
    fn pin(&mut self, prompt: &PinPrompt) -> Option<Zeroizing<String>>;
    /// A progress or warning line (stderr on a terminal).
    fn note(&mut self, message: &str);
    /// Asks a yes/no question (e.g. `Sign this request? [y/N]`); only an explicit yes is yes,
    /// and with no way to ask the answer is no.
    fn confirm(&mut self, question: &str) -> bool {
        self.note(question);
        false
    }
}

/// A scripted UI for tests and non-interactive runs: fixed PIN answers, records what was shown.
#[derive(Default)]
pub struct ScriptedUi {
    /// PINs to answer, in order; an empty queue answers `None`.
    pub pins: Vec<String>,
    /// Everything shown, in order.
    pub shown: Vec<String>,
}

impl Ui for ScriptedUi {
    fn touch_prompt(&mut self, message: &str) {
        self.shown.push(format!("touch: {message}"));
    }
    fn pin(&mut self, prompt: &PinPrompt) -> Option<Zeroizing<String>> {
        self.shown.push(format!("pin: {}", prompt.text()));
        if self.pins.is_empty() {
            return None;
        }
        Some(Zeroizing::new(self.pins.remove(0)))
    }
    fn note(&mut self, message: &str) {
        self.shown.push(format!("note: {message}"));
    }
}
