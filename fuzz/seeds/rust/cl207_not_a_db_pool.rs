// expect: clean
//! A `pool` that is not a database pool (an object cache): no database crate is used here.
use std::sync::Mutex;

struct Pool<T> {
    items: Mutex<Vec<T>>,
}

impl<T: Default> Pool<T> {
    fn get(&self) -> T {
        self.items.lock().unwrap().pop().unwrap_or_default()
    }
}

fn two_items(pool: &Pool<Vec<u8>>) -> usize {
    let first = pool.get();
    let second = pool.get();
    first.len() + second.len()
}
