//! Reading files we are pointed at (`--ca`, `inspect FILE`, key and certificate files): regular
//! files only, read through a size bound, opened so that a FIFO cannot make us wait forever.
//! `inspect /dev/zero` or `inspect FIFO` is a clear error, not 2.5 GB of memory or a hang.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use zeroize::Zeroizing;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// There is no such file.
    NotFound,
    /// It is not a regular file (the kind it is instead).
    NotRegular(&'static str),
    /// It is larger than the bound.
    TooLarge(u64),
    /// Any other I/O error.
    Io(std::io::Error),
}

impl ReadError {
    /// The reason, for "FILE: reason" messages.
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotFound => "no such file".into(),
            ReadError::NotRegular(kind) => format!("is {kind}, not a regular file"),
            ReadError::TooLarge(max) => {
                format!("is larger than {max} bytes, too large for what it should hold")
            }
            ReadError::Io(e) => format!("cannot be read: {e}"),
        }
    }
}

/// Reads the regular file at `path`, at most `max` bytes, into a zeroizing buffer.
pub fn read_bounded(path: &Path, max: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let f = open_regular(path)?;
    let meta = f.metadata().map_err(ReadError::Io)?;
    if meta.len() > max {
        return Err(ReadError::TooLarge(max));
    }
    read_up_to(f, max)
}

/// [`read_bounded`] for a host's own text files (sshd_config and its Includes, the files it
/// names), which host-config reads with `std::io` error handling: not found stays
/// `ErrorKind::NotFound`; anything but a regular file, or more than [`MAX_HOST_FILE`] bytes, is an
/// `InvalidInput` error with the reason (never a wait on a FIFO).
pub fn read_host_file(path: &Path) -> std::io::Result<Vec<u8>> {
    match read_bounded(path, MAX_HOST_FILE) {
        Ok(b) => Ok(b.to_vec()),
        Err(ReadError::NotFound) => Err(std::io::ErrorKind::NotFound.into()),
        Err(ReadError::Io(e)) => Err(e),
        Err(e) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.reason(),
        )),
    }
}

/// The bound of [`read_host_file`]: far more than any sshd configuration or key list.
pub const MAX_HOST_FILE: u64 = 16 << 20;

/// Opens the regular file at `path` for reading: a FIFO, a device, a socket or a directory is
/// refused at once (the open does not wait for a FIFO's writer).
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::IsADirectory => ReadError::NotRegular("a directory"),
            _ => ReadError::Io(e),
        })?;
    let ft = f.metadata().map_err(ReadError::Io)?.file_type();
    if !ft.is_file() {
        return Err(ReadError::NotRegular(if ft.is_dir() {
            "a directory"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "something else"
        }));
    }
    Ok(f)
}

fn read_up_to(f: File, max: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let mut buf = Zeroizing::new(Vec::new());
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > max {
        return Err(ReadError::TooLarge(max)); // it grew since the fstat
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_directories_and_big_files_are_refused_without_reading_them() {
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 1024),
            Err(ReadError::NotRegular("a device"))
        ));
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bounded(d.path(), 1024),
            Err(ReadError::NotRegular("a directory"))
        ));
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_bounded(&fifo, 1024),
            Err(ReadError::NotRegular("a FIFO"))
        ));
        let big = d.path().join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        assert!(matches!(
            read_bounded(&big, 1024),
            Err(ReadError::TooLarge(1024))
        ));
        assert_eq!(read_bounded(&big, 4096).unwrap().len(), 2048);
        // The host-file reader: the same refusals as std::io errors, not found kept as such.
        let e = read_host_file(&fifo).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "is a FIFO, not a regular file");
        assert_eq!(
            read_host_file(&d.path().join("nope")).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        assert_eq!(read_host_file(&big).unwrap().len(), 2048);
        assert!(matches!(
            read_bounded(&d.path().join("nope"), 1),
            Err(ReadError::NotFound)
        ));
    }
}
