//! OpenSSH formats, byte for byte as OpenSSH 9.2 writes and reads them: certificates and their
//! options, principals and key ids, the `-V` grammar, key and key-handle files, security-key (sk)
//! encodings, and the certificate summary `inspect` shows.

pub mod cert;
pub mod cert_options;
pub mod key_id;
pub mod keyfile;
pub mod krl;
pub mod principals;
pub mod sk;
pub mod summary;
pub mod validity;
