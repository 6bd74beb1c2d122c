pub fn create_payload() -> Vec<u8> {
    // Command - authenticatorGetNextAssertion (0x08)
    vec![0x08]
}
