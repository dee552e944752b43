//! The typed text itself, in memory: no UI, so the app can forget it all
//! on sign-out without depending on the components that show it.

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    static MEMORY: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The text kept under `key`.
pub fn get(key: &str) -> Option<String> {
    MEMORY.with(|m| m.borrow().get(key).cloned())
}

/// Keeps `value` under `key` (empty forgets it).
pub fn set(key: &str, value: &str) {
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if value.is_empty() {
            m.remove(key);
        } else {
            m.insert(key.to_owned(), value.to_owned());
        }
    });
}

/// Forgets every draft (sign-out: the next user must not see them).
pub fn clear_all() {
    MEMORY.with(|m| m.borrow_mut().clear());
}
