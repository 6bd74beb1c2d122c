//! Prompts and progress behind a trait, so the library never touches the terminal and tests can
//! script the answers. The terminal implementation lives in `cmd/`.

use zeroize::Zeroizing;

use crate::Result;

/// What the library may ask of, or tell, the person at the keyboard.
pub trait Ui {
    /// Tells the user to touch the key; called *before* the blocking call.
    fn touch_prompt(&mut self, message: &str);
    /// Asks for the key's PIN. The answer lives in a zeroizing buffer.
    fn pin(&mut self, prompt: &str) -> Result<Zeroizing<String>>;
    /// A progress or warning line (stderr on a terminal).
    fn note(&mut self, message: &str);
}

/// A scripted UI for tests and non-interactive runs: fixed PIN answers, records what was shown.
#[derive(Default)]
pub struct ScriptedUi {
    /// PINs to answer, in order; an empty queue makes `pin` fail.
    pub pins: Vec<String>,
    /// Everything shown, in order.
    pub shown: Vec<String>,
}

impl Ui for ScriptedUi {
    fn touch_prompt(&mut self, message: &str) {
        self.shown.push(format!("touch: {message}"));
    }
    fn pin(&mut self, prompt: &str) -> Result<Zeroizing<String>> {
        self.shown.push(format!("pin: {prompt}"));
        if self.pins.is_empty() {
            return Err(crate::token::TokenError::PinNeeded.into());
        }
        Ok(Zeroizing::new(self.pins.remove(0)))
    }
    fn note(&mut self, message: &str) {
        self.shown.push(format!("note: {message}"));
    }
}
