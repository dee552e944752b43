//! Desktop entry point: a shim over [`mostrador_app_lib::run`].

// Prevents an extra console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    mostrador_app_lib::run();
}
