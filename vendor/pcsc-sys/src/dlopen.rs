//! breakglass patch (BREAKGLASS-PATCH.md): the PC/SC functions of this crate, with libpcsclite
//! opened on the first call instead of linked, so a program built with this crate starts (and
//! can say what is missing) on a machine without PC/SC.
//!
//! The first call of any function opens `libpcsclite.so.1` with `dlopen` (`RTLD_NOW`, so a
//! library that cannot resolve its own symbols fails here, not later) and looks up every
//! function at once; the library then stays open for the life of the process. When it cannot be
//! opened, or lacks one of the functions, every function returns `SCARD_E_NO_SERVICE` ("the
//! smart card resource manager is not running") without calling anything, and [`load`] says why.
//!
//! The three `g_rgSCard*Pci` statics are defined here with the values libpcsclite exports
//! (`{ protocol, sizeof(SCARD_IO_REQUEST) }`): pcsc-lite's `SCardTransmit` reads the two fields
//! and never compares the pointer with its own.

use std::fmt;
use std::os::raw::{c_char, c_void};
use std::sync::OnceLock;

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

use super::{DWORD, LONG, SCARDCONTEXT, SCARDHANDLE, SCARD_E_NO_SERVICE, SCARD_IO_REQUEST, SCARD_READERSTATE};
use super::{SCARD_PROTOCOL_RAW, SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1};

/// The library opened: pcsc-lite's client library, by its SONAME.
pub const LIBRARY: &str = "libpcsclite.so.1";

/// Why the PC/SC library cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// `dlopen` failed (not installed, or not loadable); the loader's message.
    Open(String),
    /// The library lacks a function this crate calls; its name and the loader's message.
    Symbol { name: &'static str, reason: String },
}

/// The loader's message (it names the library, and the function where one is missing).
impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open(reason) | LoadError::Symbol { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for LoadError {}

/// Opens the PC/SC library now if no call has yet: `Ok` when every function is there, else why
/// not (the same answer for the rest of the process).
pub fn load() -> Result<(), &'static LoadError> {
    api().as_ref().map(|_| ())
}

const PCI_LENGTH: DWORD = std::mem::size_of::<SCARD_IO_REQUEST>() as DWORD;

pub static g_rgSCardT0Pci: SCARD_IO_REQUEST = SCARD_IO_REQUEST {
    dwProtocol: SCARD_PROTOCOL_T0,
    cbPciLength: PCI_LENGTH,
};
pub static g_rgSCardT1Pci: SCARD_IO_REQUEST = SCARD_IO_REQUEST {
    dwProtocol: SCARD_PROTOCOL_T1,
    cbPciLength: PCI_LENGTH,
};
pub static g_rgSCardRawPci: SCARD_IO_REQUEST = SCARD_IO_REQUEST {
    dwProtocol: SCARD_PROTOCOL_RAW,
    cbPciLength: PCI_LENGTH,
};

/// Declares the functions as the published `extern "system"` block does: a table of pointers
/// filled once, and for each function a forwarder with the same name and signature.
macro_rules! functions {
    ($(pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> LONG;)*) => {
        #[allow(non_snake_case)]
        struct Api {
            // Never closed: the pointers below point into it.
            _library: Library,
            $($name: unsafe extern "system" fn($($ty),*) -> LONG,)*
        }

        fn open() -> Result<Api, LoadError> {
            // SAFETY: libpcsclite's initialisers only set up its own state.
            let library = unsafe { Library::open(Some(LIBRARY), RTLD_NOW | RTLD_LOCAL) }
                .map_err(|e| LoadError::Open(e.to_string()))?;
            $(
                // SAFETY: the type is the C prototype of pcsc-lite's winscard.h, as the
                // published extern block declares it.
                let $name = unsafe {
                    library.get::<unsafe extern "system" fn($($ty),*) -> LONG>(
                        concat!(stringify!($name), "\0").as_bytes(),
                    )
                }
                .map(|f| *f)
                .map_err(|e| LoadError::Symbol { name: stringify!($name), reason: e.to_string() })?;
            )*
            Ok(Api { _library: library, $($name,)* })
        }

        $(
            /// As in pcsc-lite; `SCARD_E_NO_SERVICE` when the library cannot be used ([`load`]).
            ///
            /// # Safety
            /// As the C function's.
            pub unsafe fn $name($($arg: $ty),*) -> LONG {
                match api() {
                    Ok(api) => (api.$name)($($arg),*),
                    Err(_) => SCARD_E_NO_SERVICE,
                }
            }
        )*
    };
}

fn api() -> &'static Result<Api, LoadError> {
    static API: OnceLock<Result<Api, LoadError>> = OnceLock::new();
    API.get_or_init(open)
}

functions! {
    pub fn SCardEstablishContext(
        dwScope: DWORD,
        pvReserved1: *const c_void,
        pvReserved2: *const c_void,
        phContext: *mut SCARDCONTEXT,
    ) -> LONG;

    pub fn SCardReleaseContext(hContext: SCARDCONTEXT) -> LONG;

    pub fn SCardIsValidContext(hContext: SCARDCONTEXT) -> LONG;

    pub fn SCardCancel(hContext: SCARDCONTEXT) -> LONG;

    pub fn SCardConnect(
        hContext: SCARDCONTEXT,
        szReader: *const c_char,
        dwShareMode: DWORD,
        dwPreferredProtocols: DWORD,
        phCard: *mut SCARDHANDLE,
        pdwActiveProtocol: *mut DWORD,
    ) -> LONG;

    pub fn SCardReconnect(
        hCard: SCARDHANDLE,
        dwShareMode: DWORD,
        dwPreferredProtocols: DWORD,
        dwInitialization: DWORD,
        pdwActiveProtocol: *mut DWORD,
    ) -> LONG;

    pub fn SCardDisconnect(hCard: SCARDHANDLE, dwDisposition: DWORD) -> LONG;

    pub fn SCardGetStatusChange(
        hContext: SCARDCONTEXT,
        dwTimeout: DWORD,
        rgReaderStates: *mut SCARD_READERSTATE,
        cReaders: DWORD,
    ) -> LONG;

    pub fn SCardListReaders(
        hContext: SCARDCONTEXT,
        mszGroups: *const c_char,
        mszReaders: *mut c_char,
        pcchReaders: *mut DWORD,
    ) -> LONG;

    pub fn SCardBeginTransaction(hCard: SCARDHANDLE) -> LONG;

    pub fn SCardEndTransaction(hCard: SCARDHANDLE, dwDisposition: DWORD) -> LONG;

    pub fn SCardStatus(
        hCard: SCARDHANDLE,
        szReaderName: *mut c_char,
        pcchReaderLen: *mut DWORD,
        pdwState: *mut DWORD,
        pdwProtocol: *mut DWORD,
        pbAtr: *mut u8,
        pcbAtrLen: *mut DWORD,
    ) -> LONG;

    pub fn SCardGetAttrib(hCard: SCARDHANDLE, dwAttrId: DWORD, pbAttr: *mut u8, pcbAttrLen: *mut DWORD) -> LONG;

    pub fn SCardSetAttrib(hCard: SCARDHANDLE, dwAttrId: DWORD, pbAttr: *const u8, pcbAttrLen: DWORD) -> LONG;

    pub fn SCardTransmit(
        hCard: SCARDHANDLE,
        pioSendPci: *const SCARD_IO_REQUEST,
        pbSendBuffer: *const u8,
        cbSendLength: DWORD,
        pioRecvPci: *mut SCARD_IO_REQUEST,
        pbRecvBuffer: *mut u8,
        pcbRecvLength: *mut DWORD,
    ) -> LONG;

    pub fn SCardControl(
        hCard: SCARDHANDLE,
        dwControlCode: DWORD,
        pbSendBuffer: *const u8,
        cbSendLength: DWORD,
        pbRecvBuffer: *mut u8,
        cbRecvLength: DWORD,
        lpBytesReturned: *mut DWORD,
    ) -> LONG;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pci_statics_have_pcsc_lites_values() {
        // pcsc-lite: { SCARD_PROTOCOL_T0, sizeof(SCARD_IO_REQUEST) } etc.; 16 bytes on LP64.
        assert_eq!((g_rgSCardT0Pci.dwProtocol, g_rgSCardT0Pci.cbPciLength), (1, PCI_LENGTH));
        assert_eq!((g_rgSCardT1Pci.dwProtocol, g_rgSCardT1Pci.cbPciLength), (2, PCI_LENGTH));
        assert_eq!(
            (g_rgSCardRawPci.dwProtocol, g_rgSCardRawPci.cbPciLength),
            (4, PCI_LENGTH)
        );
    }
}
