//! CL208: a raw C handle that can reach a return without its close.
use std::ffi::CStr;
use std::os::raw::c_char;
use std::ptr;

use libsqlite3_sys::*;
use pq_sys::*;

pub struct Database {
    db: *mut sqlite3,
}

unsafe fn open_leaky(path: *const c_char) -> Result<Database, i32> {
    let mut db = ptr::null_mut();
    let rc = sqlite3_open_v2(path, &mut db, SQLITE_OPEN_READWRITE, ptr::null()); // error: CL208
    if rc != SQLITE_OK {
        return Err(rc);
    }
    Ok(Database { db })
}

unsafe fn open_fixed(path: *const c_char) -> Result<Database, i32> {
    let mut db = ptr::null_mut();
    let rc = sqlite3_open_v2(path, &mut db, SQLITE_OPEN_READWRITE, ptr::null());
    if rc != SQLITE_OK {
        sqlite3_close(db);
        return Err(rc);
    }
    Ok(Database { db })
}

unsafe fn count_tables(path: *const c_char) -> i32 {
    let mut db = ptr::null_mut();
    if sqlite3_open(path, &mut db) != SQLITE_OK { // error: CL208
        return -1;
    }
    let n = 0;
    sqlite3_close(db);
    n
}

unsafe fn pg_version(conninfo: &CStr) -> Option<i32> {
    let conn = PQconnectdb(conninfo.as_ptr()); // error: CL208
    if PQstatus(conn) != ConnStatusType::CONNECTION_OK {
        return None;
    }
    let version = PQserverVersion(conn);
    PQfinish(conn);
    Some(version)
}

unsafe fn pg_version_fixed(conninfo: &CStr) -> Option<i32> {
    let conn = PQconnectdb(conninfo.as_ptr());
    if conn.is_null() {
        return None;
    }
    if PQstatus(conn) != ConnStatusType::CONNECTION_OK {
        PQfinish(conn);
        return None;
    }
    let version = PQserverVersion(conn);
    PQfinish(conn);
    Some(version)
}

unsafe fn handed_to_its_owner(path: *const c_char) -> rusqlite::Result<rusqlite::Connection> {
    let mut db = ptr::null_mut();
    sqlite3_open(path, &mut db);
    rusqlite::Connection::from_handle_owned(db)
}

pub struct Owned(std::ptr::NonNull<sqlite3>);

unsafe fn wrapped_at_once(path: *const c_char) -> Result<Owned, i32> {
    let mut db = ptr::null_mut();
    let rc = sqlite3_open_v2(path, &mut db, SQLITE_OPEN_READWRITE, ptr::null());
    // The wrapper owns the handle from here, error path included.
    let db = std::ptr::NonNull::new(db).expect("out of memory");
    let owned = Owned(db);
    if rc != SQLITE_OK {
        return Err(rc);
    }
    Ok(owned)
}

unsafe fn closed_inside_an_assertion(path: *const c_char) {
    let mut db = ptr::null_mut();
    let rc = sqlite3_open(path, &mut db);
    assert_eq!(rc, SQLITE_OK);
    assert_eq!(sqlite3_close(db), SQLITE_OK);
}
