//! CL206: a raw connection opened per item, to the same target.
use std::net::TcpStream;

use diesel::prelude::*;
use rusqlite::Connection;

fn save_all(url: &str, items: &[Item]) {
    for item in items {
        let mut conn = PgConnection::establish(url).unwrap(); // error: CL206
        item.save(&mut conn);
    }
}

fn save_all_fixed(url: &str, items: &[Item]) {
    let mut conn = PgConnection::establish(url).unwrap();
    for item in items {
        item.save(&mut conn);
    }
}

fn per_message(addr: &str, messages: Vec<Vec<u8>>) {
    messages.iter().for_each(|message| {
        let mut stream = TcpStream::connect(addr).unwrap(); // error: CL206
        std::io::Write::write_all(&mut stream, message).unwrap();
    });
}

fn one_database_per_file(paths: &[std::path::PathBuf]) -> usize {
    // A different database each time: fine.
    let mut total = 0;
    for path in paths {
        let conn = Connection::open(path).unwrap();
        total += conn.query_row("select count(*) from t", [], |r| r.get::<_, usize>(0)).unwrap();
    }
    total
}

fn retry_until_connected(addr: &str) -> TcpStream {
    for _ in 0..5 {
        if let Ok(stream) = TcpStream::connect(addr) {
            return stream;
        }
    }
    panic!("no connection");
}

fn server_loop(addr: &str) {
    // A reconnect loop: each iteration drops the previous connection.
    loop {
        let stream = TcpStream::connect(addr).unwrap();
        serve(stream);
    }
}
