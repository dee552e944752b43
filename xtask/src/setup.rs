//! Installs what the project needs and is missing, printing each install:
//! Debian packages, the wasm32 target, wasm-bindgen-cli (the exact version in
//! Cargo.lock) and tauri-driver, from crates.io; axe-core (the end-to-end
//! accessibility audit's engine) and binaryen (`wasm-opt` for the web
//! build) from npm.
//!
//! Nothing is downloaded from outside the package registries. Trunk is not
//! needed: `cargo xtask ui` drives `cargo build --target wasm32-unknown-unknown`
//! and `wasm-bindgen` itself (see ARCHITECTURE.md, "Building the UI").
//! wasm-opt (web build only) is npm's binaryen: Debian's breaks
//! wasm-bindgen's output.

use std::process::Command;

use anyhow::{bail, Context};

use crate::util::{self, output, run, which};

/// Debian packages: Tauri's build and runtime needs, then the test tools.
const DEBIAN_PACKAGES: &[&str] = &[
    // Building the Tauri app (WebKitGTK 4.1, GTK 3, libxdo for menus).
    "build-essential",
    "pkg-config",
    "file",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    // Running the app and its end-to-end tests headless.
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    // The web app's end-to-end tests and `cargo xtask bench web`: headless
    // Chromium driven through chromedriver.
    "chromium",
    "chromium-driver",
    // The keychain tests: a D-Bus session and GNOME Keyring's Secret Service.
    "dbus",
    "gnome-keyring",
    "keyutils",
];

pub const TAURI_DRIVER_VERSION: &str = "2.1.0";

pub fn all() -> anyhow::Result<()> {
    debian_packages(DEBIAN_PACKAGES)?;
    wasm_target()?;
    wasm_bindgen_cli()?;
    tauri_driver()?;
    node()?;
    axe_core()?;
    Ok(())
}

/// axe-core, the accessibility engine the end-to-end audit injects into
/// the app (`tests/tests/a11y.rs`), from npm.
pub const AXE_CORE_NPM: &str = "axe-core@4.14.1";

/// Where `axe_core` installs it: `<target>/tools/axe-core`.
pub fn axe_core_js() -> std::path::PathBuf {
    util::target_dir().join("tools/axe-core/node_modules/axe-core/axe.min.js")
}

fn axe_core() -> anyhow::Result<()> {
    npm_tool(AXE_CORE_NPM, "axe-core", &axe_core_js())
}

/// binaryen from npm, for `wasm-opt` on the web build (Debian's binaryen
/// 108 silently breaks wasm-bindgen's output; npm's 132 works, see
/// TOOLCHAIN.md).
pub const BINARYEN_NPM: &str = "binaryen@132.0.0";

/// `wasm-opt` from npm's binaryen, installed into `<target>/tools/binaryen`
/// when missing; its path.
pub fn wasm_opt() -> anyhow::Result<std::path::PathBuf> {
    node()?;
    let bin = util::target_dir().join("tools/binaryen/node_modules/.bin/wasm-opt");
    npm_tool(BINARYEN_NPM, "binaryen", &bin)?;
    Ok(bin)
}

/// Installs npm package `spec` into `<target>/tools/<dir>` unless `expect`
/// (a file it brings) is there already.
fn npm_tool(spec: &str, dir: &str, expect: &std::path::Path) -> anyhow::Result<()> {
    if expect.exists() {
        return Ok(());
    }
    if which("npm").is_none() {
        debian_packages(&["npm"])?;
    }
    let prefix = util::target_dir().join("tools").join(dir);
    eprintln!(
        "xtask: installing {spec} from npm into {}",
        prefix.display()
    );
    std::fs::create_dir_all(&prefix)?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(spec))?;
    if !expect.exists() {
        bail!("npm installed {spec} but {} is missing", expect.display());
    }
    Ok(())
}

/// Node.js runs the UI's wasm tests (`wasm-bindgen-test-runner`); the
/// machine's own is used when there is one.
fn node() -> anyhow::Result<()> {
    if which("node").is_some() {
        return Ok(());
    }
    debian_packages(&["nodejs"])
}

fn is_installed(pkg: &str) -> bool {
    output(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Abbrev}", pkg]))
        .is_some_and(|s| s.starts_with("ii"))
}

pub fn debian_packages(pkgs: &[&str]) -> anyhow::Result<()> {
    if which("dpkg-query").is_none() {
        eprintln!(
            "xtask: not a Debian/Ubuntu system; make sure these are installed: {}",
            pkgs.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = pkgs.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing Debian packages: {}", missing.join(" "));
    let as_root = output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0");
    let apt = |args: &[&str]| -> Command {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    if !as_root && which("sudo").is_none() {
        bail!(
            "missing Debian packages and no sudo: run as root `apt-get install -y {}`",
            missing.join(" ")
        );
    }
    run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is needed to add the wasm32 target")?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target wasm32-unknown-unknown");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version in Cargo.lock; the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> anyhow::Result<String> {
    let lock =
        std::fs::read_to_string(util::root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("wasm-bindgen not found in Cargo.lock")
}

fn wasm_bindgen_cli() -> anyhow::Result<()> {
    let want = locked_wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version"));
    if have.as_deref().map(str::trim) == Some(&format!("wasm-bindgen {want}")) {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-bindgen-cli {want} from crates.io");
    // Not --locked: its lockfile pins a crate version missing from the index.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))
}

fn tauri_driver() -> anyhow::Result<()> {
    if which("tauri-driver").is_some() {
        return Ok(());
    }
    eprintln!("xtask: installing tauri-driver {TAURI_DRIVER_VERSION} from crates.io");
    run(Command::new("cargo").args([
        "install",
        "--locked",
        "tauri-driver",
        "--version",
        TAURI_DRIVER_VERSION,
    ]))
}
