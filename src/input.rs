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
        assert!(matches!(
            read_bounded(&d.path().join("nope"), 1),
            Err(ReadError::NotFound)
        ));
    }
}
