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

/// What a word of breakglass's own output means to a person scanning it. The library and the
/// binary hand it to the printer with the word, and the printer colours by it, never by
/// matching text (so text from outside that looks like a mark stays plain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// It worked or is in order: PASS, OK, a valid certificate.
    Success,
    /// Worth a look, not a failure: a warning, WARN, a skipped step.
    Warning,
    /// It failed or was refused: FAIL, an error, an expired or not yet valid certificate.
    Refusal,
    /// Plain text, not coloured.
    Note,
}

/// What the library may ask of, or tell, the person at the keyboard.
pub trait Ui {
    /// Tells the user to touch the key; called *before* the blocking call.
    fn touch_prompt(&mut self, message: &str);
    /// Asks for a PIN, in a zeroizing buffer; `None` when there is no way to ask (the token
    /// turns that into its own error).
    fn pin(&mut self, prompt: &PinPrompt) -> Option<Zeroizing<String>>;
    /// A progress line (stderr on a terminal).
    fn note(&mut self, message: &str);
    /// A warning: something worth a look that does not stop the command. Shown as
    /// `warning: MESSAGE`; a terminal colours the mark by its [`Tone::Warning`].
    fn warning(&mut self, message: &str) {
        self.note(&format!("warning: {message}"));
    }
    /// The key answered the operation [`Ui::touch_prompt`] announced (touched or not): a live
    /// "waiting for touch" line can go.
    fn touch_done(&mut self) {}
    /// True when a PIN that was wrong (or too short) can be asked for again: a person is typing.
    /// False for a fixed answer (`BREAKGLASS_PIN`), which would only repeat the same mistake.
    fn can_ask_again(&self) -> bool {
        false
    }
    /// Asks a yes/no question; `None` when there is no terminal to ask on (the caller refuses).
    fn confirm(&mut self, question: &str) -> Option<bool> {
        let _ = question;
        None
    }
}

/// A scripted UI for tests and non-interactive runs: fixed PIN answers, records what was shown.
#[derive(Default)]
pub struct ScriptedUi {
    /// PINs to answer, in order; an empty queue answers `None`.
    pub pins: Vec<String>,
    /// Everything shown, in order.
    pub shown: Vec<String>,
    /// Answer [`Ui::can_ask_again`] with this (a person retyping a PIN).
    pub ask_again: bool,
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
    fn can_ask_again(&self) -> bool {
        self.ask_again
    }
}

/// What a person sees before being asked again after a wrong PIN.
pub fn wrong_pin_note(tries_left: u8) -> String {
    let tries = if tries_left == 1 { "try" } else { "tries" };
    format!("Wrong PIN; {tries_left} {tries} left.")
}

/// Asks for a PIN until one of at least `min` characters comes (a shorter one never reaches the
/// key, so it costs no try); without a person to ask again, a short PIN is an error.
pub fn ask_pin(
    ui: &mut dyn Ui,
    prompt: &PinPrompt,
    min: usize,
) -> Result<Option<Zeroizing<String>>, usize> {
    loop {
        let Some(pin) = ui.pin(prompt) else {
            return Ok(None);
        };
        if pin.chars().count() >= min {
            return Ok(Some(pin));
        }
        if !ui.can_ask_again() {
            return Err(min);
        }
        ui.note(&if pin.is_empty() {
            format!("No PIN typed; the PIN has at least {min} characters (no try was used).")
        } else {
            format!("Too short; the PIN has at least {min} characters (no try was used).")
        });
    }
}
