// expect: clean
//! `Box::into_raw` paired with `Box::from_raw`: an FFI hand-off, not a leak.
use rusqlite::Connection;

#[no_mangle]
pub extern "C" fn db_open(path: *const u8) -> *mut Connection {
    let conn = Connection::open_in_memory().unwrap();
    let _ = path;
    Box::into_raw(Box::new(conn))
}

#[no_mangle]
pub unsafe extern "C" fn db_close(handle: *mut Connection) {
    drop(unsafe { Box::from_raw(handle) });
}
